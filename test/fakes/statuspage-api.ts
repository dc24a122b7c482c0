import { startHttpFake, type Fault, type RecordedRequest } from './http-fake.js';

/**
 * Enough of the Statuspage REST API v1 for a maintenance window: POST and PATCH
 * /v1/pages/{page}/incidents[/{id}], `Authorization: OAuth <key>`, components' states.
 */
export interface StatuspageIncident {
  id: string;
  name: string;
  status: string;
  impact_override?: string;
  scheduled_for?: string;
  scheduled_until?: string;
  components: Record<string, string>;
  updates: Array<{ status: string; body?: string }>;
}

export interface StatuspageFake {
  url: string;
  /** The API base URL to give the action (…/v1). */
  apiUrl: string;
  apiKey: string;
  pageId: string;
  incidents: Map<string, StatuspageIncident>;
  /** Current state of every component touched. */
  components: Map<string, string>;
  requests: RecordedRequest[];
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

interface IncidentBody {
  incident?: {
    name?: string;
    status?: string;
    impact_override?: string;
    scheduled_for?: string;
    scheduled_until?: string;
    body?: string;
    components?: Record<string, string>;
  };
}

export async function startStatuspageApi(options: { apiKey?: string; pageId?: string } = {}): Promise<StatuspageFake> {
  const apiKey = options.apiKey ?? 'sp-key-0123456789';
  const pageId = options.pageId ?? 'page123';
  const incidents = new Map<string, StatuspageIncident>();
  const components = new Map<string, string>();
  let next = 1;
  const fake = await startHttpFake((request) => {
    if (request.headers.authorization !== `OAuth ${apiKey}`)
      return { status: 401, body: { error: 'Could not authenticate' } };
    const match = /^\/v1\/pages\/([^/]+)\/incidents(?:\/([^/?]+))?$/.exec(request.path);
    if (!match || match[1] !== pageId) return { status: 404, body: { error: 'Not found' } };
    const body = (request.json ?? {}) as IncidentBody;
    if (!body.incident) return { status: 400, body: { error: 'incident is missing' } };
    const input = body.incident;
    for (const [id, state] of Object.entries(input.components ?? {})) components.set(id, state);
    if (request.method === 'POST' && !match[2]) {
      if (!input.name) return { status: 422, body: { error: 'name is missing' } };
      const id = `inc${String(next++).padStart(4, '0')}`;
      const incident: StatuspageIncident = {
        id,
        name: input.name,
        status: input.status ?? 'scheduled',
        impact_override: input.impact_override,
        scheduled_for: input.scheduled_for,
        scheduled_until: input.scheduled_until,
        components: { ...(input.components ?? {}) },
        updates: [{ status: input.status ?? 'scheduled', body: input.body }],
      };
      incidents.set(id, incident);
      return { status: 201, body: incident };
    }
    if (request.method === 'PATCH' && match[2]) {
      const incident = incidents.get(match[2]);
      if (!incident) return { status: 404, body: { error: 'Incident not found' } };
      if (input.status) incident.status = input.status;
      Object.assign(incident.components, input.components ?? {});
      incident.updates.push({ status: incident.status, body: input.body });
      return { status: 200, body: incident };
    }
    return { status: 405, body: { error: 'Method not allowed' } };
  });
  return { ...fake, apiUrl: `${fake.url}/v1`, apiKey, pageId, incidents, components };
}
