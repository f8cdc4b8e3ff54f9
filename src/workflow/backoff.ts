/**
 * Waits between polls, in seconds. Endpoint updates take minutes, and a Standard workflow bills per
 * state transition (each poll costs three: Task, Choice, Wait), so the wait doubles from 30 s up to a
 * cap of 180 s: a 10-minute update is seen done within 3 minutes using 7 polls, not 20 or 40.
 */
export function pollWaitSeconds(pollsSoFar: number, base = 30, cap = 180): number {
  const exponent = Math.max(0, pollsSoFar - 1);
  return Math.min(cap, base * 2 ** Math.min(exponent, 16));
}

/** Wait before retrying a revert that met ResourceInUseException: another update must finish first. */
export function busyWaitSeconds(attempt: number): number {
  return pollWaitSeconds(attempt, 30, 300);
}
