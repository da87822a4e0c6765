"""Request and response shapes of the API. Inputs forbid unknown fields and coercion."""
