"""Figure builders for the Attention section."""
