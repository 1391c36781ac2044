//! carbonmesh connector for the Verra (VCS) registry.
