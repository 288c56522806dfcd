"""Compare plans: N variants of one planning question, run on the same draws and ranked."""
