"""FastWan 2.2 TI2V-5B: Wan 2.2 TI2V-5B distilled by FastVideo to three steps without guidance."""
