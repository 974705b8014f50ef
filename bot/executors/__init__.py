"""Where the GPU work runs: the port the core talks to, and its implementations."""
