//! carbonmesh connector for the California ARB offset credit issuance table registry.
