"""Code the documentation includes; tests/test_doc_examples.py runs it."""
