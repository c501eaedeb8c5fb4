//! Workload formats (being written).
