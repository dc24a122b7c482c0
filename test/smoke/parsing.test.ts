import { parseExpectedTables } from '../../src/smoke/database-tables.js';
import { parseExpectBody } from '../../src/smoke/expect-body.js';
import { parseExpectedStatus } from '../../src/smoke/expected-status.js';
import { parseHeaders } from '../../src/smoke/headers.js';

describe('parseExpectedStatus', () => {
  it('reads a status, a list, a range and a class', () => {
    const matcher = parseExpectedStatus('200, 204 300-302 4xx');
    expect([200, 204, 301, 404, 499].every((status) => matcher.matches(status))).toBe(true);
    expect([201, 303, 500].some((status) => matcher.matches(status))).toBe(false);
    expect(matcher.text).toBe('200, 204, 300-302, 4xx');
  });

  it('refuses abc, naming what is allowed', () => {
    expect(() => parseExpectedStatus('abc')).toThrow(
      'Input "expected-status" has "abc", which is not an HTTP status. Valid values are: a status (200), a list (200,204), a range (200-299) or a class (2xx).',
    );
  });

  it('refuses a backwards range and a status outside 100-599', () => {
    expect(() => parseExpectedStatus('299-200')).toThrow(/whose start is above its end/);
    expect(() => parseExpectedStatus('200,700')).toThrow(/HTTP statuses run from 100 to 599/);
  });
});

describe('parseExpectBody', () => {
  const body = JSON.stringify({ status: 'ok', checks: [{ name: 'db', healthy: true }], 'odd key': 1 });

  it('compares a JSON path with a JSON value', () => {
    expect(parseExpectBody('$.status == "ok"').check(body)).toBeUndefined();
    expect(parseExpectBody('$.checks[0].healthy == true').check(body)).toBeUndefined();
    expect(parseExpectBody("$['odd key'] == 1").check(body)).toBeUndefined();
    expect(parseExpectBody('$.status != "degraded"').check(body)).toBeUndefined();
    expect(parseExpectBody('$.status == "ok"').check('{"status":"degraded"}')).toBe(
      '$.status is "degraded", expected "ok"',
    );
    expect(parseExpectBody('$.version').check(body)).toBe('$.version is not in the body');
    expect(parseExpectBody('$.status == "ok"').check('<html>')).toBe('the body is not JSON');
  });

  it('takes anything else as a substring', () => {
    expect(parseExpectBody('"status":"ok"').check(body)).toBeUndefined();
    expect(parseExpectBody('healthy: yes').check(body)).toBe('the body does not contain "healthy: yes"');
  });

  it('refuses a value that is not JSON', () => {
    expect(() => parseExpectBody('$.status == ok')).toThrow(
      'Input "expect-body" is "$.status == ok": the value after == must be JSON: a "double-quoted string", a number, true, false or null (for example $.status == "ok").',
    );
    expect(() => parseExpectBody('$.status ==')).toThrow(/the value after == must be JSON/);
  });

  it('refuses a path it cannot read', () => {
    expect(() => parseExpectBody('$..status == "ok"')).toThrow(
      /"\$\.\.status" is not a JSON path this action reads \(stopped at "\.\.status"\)/,
    );
    expect(() => parseExpectBody('$.status = "ok"')).toThrow(/is not a JSON path this action reads/);
  });
});

describe('parseHeaders', () => {
  it('reads Name: value lines', () => {
    expect(parseHeaders(['Authorization: Bearer abc:def', 'X-Smoke-Test:yes'])).toEqual({
      Authorization: 'Bearer abc:def',
      'X-Smoke-Test': 'yes',
    });
  });

  it('refuses a line without a name and never repeats its value', () => {
    const attempt = () => parseHeaders(['Bearer super-secret-token']);
    expect(attempt).toThrow(/Input "headers" has a line that is not "Name: value" \(no colon\)/);
    expect(attempt).not.toThrow(/super-secret-token/);
  });
});

describe('parseExpectedTables', () => {
  it('reads tables that must exist and, with !, must not', () => {
    expect(parseExpectedTables(['tickets', 'audit.events', '!failed_login_attempts'])).toEqual([
      { schema: 'public', table: 'tickets', present: true },
      { schema: 'audit', table: 'events', present: true },
      { schema: 'public', table: 'failed_login_attempts', present: false },
    ]);
  });

  it('refuses a line that is not a table name', () => {
    expect(() => parseExpectedTables(['tickets; DROP TABLE x'])).toThrow(
      /Input "expected-tables" has "tickets; DROP TABLE x"/,
    );
  });
});
