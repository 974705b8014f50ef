"""How a platform that cannot start says so: one line naming the setting to fix."""


class StartError(Exception):
    """A platform could not start (refused token, unreachable server, port in use...). The
    message is one line for the terminal; the details are in the log file."""
