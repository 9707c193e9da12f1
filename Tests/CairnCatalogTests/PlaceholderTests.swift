import Testing

@Suite struct CatalogPlaceholderTests {}
