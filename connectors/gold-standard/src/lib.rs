//! carbonmesh connector for the Gold Standard registry.
