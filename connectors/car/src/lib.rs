//! carbonmesh connector for the Climate Action Reserve registry.
