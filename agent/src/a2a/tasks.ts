import type { ListTasksResponse, Task } from "@a2a-js/sdk";
import type { ServerCallContext, TaskStore } from "@a2a-js/sdk/server";

export interface TaskBounds {
  maxTasks: number;
  /** Total JSON bytes (UTF-8) of the tasks kept. */
  maxBytes: number;
  /** A task not written for this long is gone (GetTask answers "task not found"). */
  ttlMs: number;
  now?: () => number;
}

export const TASK_DEFAULTS: TaskBounds = {
  maxTasks: 1000,
  maxBytes: 16 * 1024 * 1024,
  ttlMs: 60 * 60 * 1000,
};

/**
 * This instance's tasks, for GetTask and CancelTask: the conversation itself lives in the session
 * store, so a task is only its record. As the memory session store: expired tasks go, and past the
 * count or byte bound the least recently written go first. Keyed by the caller as the SDK's own
 * store is, so a caller reads only its own tasks.
 */
export class BoundedTaskStore implements TaskStore {
  readonly #tasks = new Map<string, { task: Task; bytes: number; saved: number }>();
  readonly #bounds: TaskBounds;
  #bytes = 0;

  /** `refuseList`: the A2A error ListTasks gets (the SDK's, which this module does not load). */
  constructor(
    bounds: Partial<TaskBounds> = {},
    private readonly refuseList: () => Error = () => new Error("no task lists"),
  ) {
    this.#bounds = { ...TASK_DEFAULTS, ...bounds };
  }

  get size(): number {
    return this.#tasks.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    this.#sweep();
    const entry = this.#tasks.get(key(taskId, context));
    return entry && structuredClone(entry.task);
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const id = key(task.id, context);
    this.#drop(id);
    const bytes = Buffer.byteLength(JSON.stringify(task)) + 2 * id.length;
    this.#tasks.set(id, { task: structuredClone(task), bytes, saved: this.#now() });
    this.#bytes += bytes;
    this.#sweep();
  }

  async list(): Promise<ListTasksResponse> {
    throw this.refuseList();
  }

  #now(): number {
    return (this.#bounds.now ?? Date.now)();
  }

  #drop(id: string): void {
    const entry = this.#tasks.get(id);
    if (!entry) return;
    this.#tasks.delete(id);
    this.#bytes -= entry.bytes;
  }

  /** Map order is write order: the oldest first, so expiry stops at the first live task. */
  #sweep(): void {
    const { maxTasks, maxBytes, ttlMs } = this.#bounds;
    for (const [id, entry] of this.#tasks) {
      if (this.#now() - entry.saved <= ttlMs) break;
      this.#drop(id);
    }
    while (this.#tasks.size > maxTasks || (this.#bytes > maxBytes && this.#tasks.size > 1)) {
      this.#drop(this.#tasks.keys().next().value as string);
    }
  }
}

const key = (taskId: string, context: ServerCallContext): string =>
  JSON.stringify([context.tenant ?? "", context.user?.userName ?? "", taskId]);
