"""marshmallow schemas: the wire format only. Load schemas validate, dump schemas render."""
