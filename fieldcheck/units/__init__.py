"""Service units and agencies: the places inspected, their services, and which changed."""
