"""The picture classifier behind moderation (transformers' image-classification pipeline)
and its random-weight stand-ins; the core reaches it only through the port it is given."""
