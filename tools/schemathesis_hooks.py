"""schemathesis hooks for tools/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

The document cannot state in JSON Schema the limits of a text without truncation — at most
max_input_length tokens and max_input_length * 250 characters (with truncation there is no limit)
— so its `Text.description` does, and the server answers 422 beyond them. This check is
schemathesis' positive_data_acceptance except for exactly those two answers; everything else valid
must be accepted."""
import json

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _is_token_limit(response):
    if response.status_code != 422:
        return False
    try:
        body = json.loads(response.text)
    except ValueError:
        return False
    message = body.get("error", "") if isinstance(body, dict) else ""
    if isinstance(message, dict):  # OpenAI's shape
        message = message.get("message", "")
    return isinstance(message, str) and message.startswith("Input validation error: `inputs` must have less than ") \
        and (" tokens. Given: " in message or " characters. Given: " in message)


@schemathesis.check
def positive_data_acceptance_in_tokens(ctx, response, case):
    if _is_token_limit(response):
        return True
    return positive_data_acceptance(ctx, response, case)
