"""Interview records (2022 method onwards): staff, service users and complaint officers asked by a
surveyor, the inputs of the Input, Output and Pengaduan dimensions (domain.md §5 "Interviews")."""
