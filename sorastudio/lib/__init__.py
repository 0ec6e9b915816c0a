"""Code the apps share that knows no app: ranged responses, storage readers, media probing, image fitting,
security headers and masking, the rate limit's counting. It may use Django and third-party libraries but
imports nothing from sorastudio's apps (tests/test_architecture.py holds it to that)."""
