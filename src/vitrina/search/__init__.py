"""Product search: one interface, an embedded (tantivy) and an OpenSearch backend."""
