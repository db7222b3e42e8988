"""The engines a user would pick instead of Dripline, each driven through the same drip
workload: enroll N contacts at once in 3 zero-delay steps, one durable send per step."""
