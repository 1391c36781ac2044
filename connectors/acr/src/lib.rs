//! carbonmesh connector for the American Carbon Registry registry.
