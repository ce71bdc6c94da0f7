"""Hardware-in-the-loop runs of the gate controllers: the verdict, its report, record and replay."""
