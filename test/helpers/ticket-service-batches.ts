// The ticket service's production history: 001-005 deployed together, then 006 and 007 (the bad deploy).
export const BATCH_ONE = [
  '001_create_tickets.ts',
  '002_add_ticket_scans.ts',
  '003_add_blockchain_tracking.ts',
  '004_add_rls_role_verification.ts',
  '005_add_idempotency_keys.ts',
];
export const BATCH_TWO = ['006_add_ticket_state_machine.ts', '007_add_security_tables.ts'];
