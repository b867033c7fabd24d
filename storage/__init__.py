"""Tables, queries and blob storage. Imports nothing of the other packages."""
