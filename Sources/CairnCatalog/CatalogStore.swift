import CairnKernel
import CairnRaft
import CairnWire

/// The replicated catalog (placeholder until the module lands).
public enum CatalogPlaceholder {}
