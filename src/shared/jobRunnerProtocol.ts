import { z } from 'zod';
import { backtestJobSchema, backtestProgressSchema, backtestStatusSchema } from './backtest.js';
import { barSourceSchema } from './config.js';

/**
 * Between the workstation and its job-runner process (a child process headless, a utility
 * process on the desktop). The runner writes results into the data directory's kestrel.db
 * itself; messages carry only commands, progress and status changes.
 */
export const jobRunnerLaunchSchema = z.object({
  dataDir: z.string(),
  barSource: barSourceSchema,
  /** Concurrent jobs; null = max(1, cores − 1). */
  threads: z.number().int().positive().nullable().default(null),
  version: z.string(),
  /** Jobs go to this BullMQ queue on Redis (taken by `kestrel backtest-worker`s) instead of the runner's threads. */
  queue: z.object({ url: z.string(), name: z.string() }).nullable().default(null),
});
export type JobRunnerLaunch = z.infer<typeof jobRunnerLaunchSchema>;
export const JOB_RUNNER_LAUNCH_ENV = 'KESTREL_JOB_RUNNER';

export const toJobRunnerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('submit'), id: z.string(), job: backtestJobSchema }),
  z.object({ type: z.enum(['pause', 'resume', 'cancel']), id: z.string() }),
  z.object({ type: z.enum(['pauseQueue', 'resumeQueue', 'stop']) }),
]);
export type ToJobRunner = z.infer<typeof toJobRunnerSchema>;

export const fromJobRunnerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), progress: backtestProgressSchema }),
  z.object({ type: z.literal('status'), id: z.string(), status: backtestStatusSchema, error: z.string().nullable() }),
]);
export type FromJobRunner = z.infer<typeof fromJobRunnerSchema>;
