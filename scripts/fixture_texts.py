#!/usr/bin/env python3
"""Texts and tokenizers of the Llama-family fixtures that bentov analyzes from text.

The tokenizer files are the real ones of ../shared/data/tokenizers, which stay outside the
project; the fixtures hold only config and weights, with a vocabulary as large as the
tokenizer's. The ids are transformers' own: run here, where transformers and tokenizers are
installed (no torch needed),

    python3 scripts/fixture_texts.py ../shared/data tests/data/text_fixture_ids.json

and scripts/make_fixtures.py (on the device machine, which has torch but not the tokenizer
files) builds each checkpoint and records its references from those ids and texts.
"""
import json
import sys

# fixture name: tokenizer folder under shared/data/tokenizers
TEXT_FIXTURES = {
    "llama2-text": "llama2",
    "mistral-text": "llama2",
    "llama3-text": "llama3",
    "qwen2-text": "qwen3",
}

# Short enough for max_position_embeddings=128 under every tokenizer. Leading and doubled
# spaces, newlines, digits, non-ASCII and special tokens written inside the text are where
# the Llama 2 class pipeline (legacy Metaspace) and the byte-level ones differ most.
TEXTS = [
    "The fundamental nature of reality is that all things are interconnected through underlying mathematical structures.",
    "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.",
    "  Leading spaces,  doubled  spaces and 1234567 digits: caf\u00e9, na\u00efve, \u65e5\u672c\u8a9e.",
    "Special tokens inside text: <s> and </s>, <|begin_of_text|>, <|endoftext|> and <|im_start|>.",
]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    from transformers import AutoTokenizer
    shared, out = sys.argv[1], sys.argv[2]
    ids = {}
    for name, tokenizer in TEXT_FIXTURES.items():
        tok = AutoTokenizer.from_pretrained(f"{shared}/tokenizers/{tokenizer}")
        ids[name] = {"tokenizer": tokenizer, "tokenizer_class": type(tok).__name__,
                     "vocab_size": len(tok), "texts": TEXTS,
                     "input_ids": [tok(t)["input_ids"] for t in TEXTS]}
        print(f"{name}: {tokenizer}, {len(tok)} ids, lengths {[len(i) for i in ids[name]['input_ids']]}")
    with open(out, "w") as f:
        json.dump(ids, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
