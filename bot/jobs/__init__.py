"""Jobs from accepted to delivered: the fair order, the executor loop, every state change."""
