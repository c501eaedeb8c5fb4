//! Cluster descriptions (being written).
