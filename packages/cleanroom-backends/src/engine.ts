// Backends, services and state (local, testcontainers, auto); filled in by the backends issue.
export const backendNames = ["local", "testcontainers"] as const;
