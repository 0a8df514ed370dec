"""Cases: the lifecycle state machine, its legal gates, instruments and deadlines."""
