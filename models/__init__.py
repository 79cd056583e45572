"""Model backends behind one small protocol, and the embedded tiny VLM."""
