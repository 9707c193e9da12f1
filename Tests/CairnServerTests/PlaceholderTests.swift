import Testing

@Suite struct ServerPlaceholderTests {}
