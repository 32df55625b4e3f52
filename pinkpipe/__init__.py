"""pinkpipe: an event-sourced light-client pipeline for Phala-style Substrate chains."""
