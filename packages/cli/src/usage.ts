/** The help text: the CLI reference in brief (docs/client.md has the long form). */
export const usage = `Usage: jobstream <command> [options]

Commands:
  enqueue <type> --payload '<json>' [--idempotency-key k] [--watch]
                              submit a job (demo.work, flashcards.generate); --watch follows it
  watch <jobId>               follow a job live until it ends; exit 0 completed, 1 failed or cancelled
  job <jobId>                 the job as it is now: state, attempts, times, error or result
  jobs [--limit N] [--cursor c]
                              your jobs, newest first (20 per page; the last line names the next page)
  cancel <jobId>              remove a job that has not started, or stop a running one (yours, or any as admin)
  retry <jobId>               run a failed job again under its id (yours, or any as admin)
  alerts                      the alert evaluation of the metrics service
  budget                      this month's spend, the limit and the kill-switch (admin)
  budget charges [--limit N] [--period YYYY-MM]
                              the month's most expensive jobs (10) and who submitted them (admin)
  kill-switch on|off [--reason "..."]
                              refuse new jobs (a reason is required to turn it on) or accept them again (admin)
  kill-switch audit [--limit N]
                              who turned the kill-switch on or off, when and why, newest first (20; admin)
  admin jobs --state <state> [--limit N] [--cursor c]
                              every user's jobs in one state (waiting, active, delayed, prioritized,
                              completed, failed, cancelled), newest first (admin)
  admin clean --state completed|failed --older-than <age> [--limit N]
                              remove finished jobs older than the age (90s, 30m, 1h, 7d) with their
                              history, at most N (default 1000, at most 10000; admin)
  stats                       job counts per state
  breakdown waiting|failed [--limit N]
                              who submitted the oldest waiting or the newest failed jobs (100),
                              their types and (failed) their errors, most jobs first (admin)
  workers                     every worker's heartbeat, its running jobs and circuit breakers (admin)
  events [--limit N] [--event name]
                              the latest system notifications, newest first (20): alert_started,
                              alert_resolved, kill_switch_changed, budget_warning,
                              circuit_breaker_state (admin)
  feed                        how far the metrics service has read the live feed of job events (admin)
  help                        this text

Options:
  --url <url>      the api (default: $JOBSTREAM_URL, or http://localhost:3000)
  --token <token>  bearer token (default: $JOBSTREAM_TOKEN); alerts, budget, kill-switch, admin,
                   workers, events, breakdown and feed need one with the admin role. In development (npm start):
                   export JOBSTREAM_TOKEN=$(npm run -s token -- --user alice --role admin)
  --json           machine-readable output: one JSON document (watch: one JSON line per event)
  -h, --help       this text

Exit codes: 0 success (also when the reader of stdout goes away, as in "| head"), 1 the watched
job failed or was cancelled, 2 usage error (a bare "jobstream" included; "jobstream help" exits 0), 3 the api
answered with an error or could not be reached (its code is printed, e.g. JOB_NOT_FOUND).
`;
