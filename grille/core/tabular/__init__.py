"""Tables in and out: CSV dialects, encodings, French Excel, formula-safe cells."""
