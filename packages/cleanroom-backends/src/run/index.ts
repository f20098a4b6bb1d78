// Test runs, runners and scenarios; filled in by the cleanroom program issue.
export const runnerNames = ["node", "vitest", "shell", "cargo", "command"] as const;
