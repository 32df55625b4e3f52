"""The bus: NATS JetStream streams, subjects, records, the ordered publisher, consumers, KV."""
