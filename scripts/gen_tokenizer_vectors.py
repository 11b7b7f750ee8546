#!/usr/bin/env python3
"""Tokenizer conformance vectors for bentov, produced by Hugging Face itself.

Usage:
  gen_tokenizer_vectors.py SHARED_DATA_DIR OUT_DIR            # writes OUT_DIR/tokenizer_vectors.json
  gen_tokenizer_vectors.py SHARED_DATA_DIR OUT_DIR --seed N   # only N-seeded random strings (extra
                                                              # check, tokenizer_vectors_seedN.json)
  gen_tokenizer_vectors.py SHARED_DATA_DIR OUT_DIR --bench    # HF `tokenizers` throughput (one core)
  gen_tokenizer_vectors.py SHARED_DATA_DIR OUT_DIR --components
      # OUT_DIR/component_vectors.json: each normalizer, pre-tokenizer, decoder and BPE option
      # alone, on toy configurations, through `tokenizers` itself (normalize_str,
      # pre_tokenize_str, decode, Tokenizer.encode)

SHARED_DATA_DIR holds tokenizers/{gpt2,pythia,opt,llama2,llama3,qwen3} and corpus/*.txt (../shared/data).
The reference is `transformers.AutoTokenizer.from_pretrained(dir)(text)["input_ids"]`, never
bentov's own code (the habit of llama.cpp's tests/test-tokenizer-0). The JSON holds every input
string and, per tokenizer, the expected ids; whole corpus files are recorded as a count and an
FNV-1a 64 hash of the comma-joined ids (too large to store), which the C++ test recomputes.
For the hand-written strings the JSON also holds, per tokenizer, the text of the whole id list
through the tokenizer's decoder ("decoded", `backend_tokenizer.decode(ids)`) and each token
through it alone ("labels", `backend_tokenizer.decoder.decode([token])`): what
`bentov tokenize --tokens` prints.
"""
import json
import os
import random
import sys
import time

TOKENIZERS = ["gpt2", "pythia", "opt", "llama2", "llama3", "qwen3"]


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def ids_hash(ids) -> str:
    return fnv1a64(",".join(str(i) for i in ids).encode("ascii"))


# ---------------------------------------------------------------------------------------------
# Input strings.

HAND = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\n\n\n",
    " \n",
    "\n ",
    "a",
    "The fundamental nature of reality is that all things are interconnected through underlying mathematical structures.",
    "Hello world",
    " Hello world",
    "Hello  world",
    "Hello   world",
    "Hello    world ",
    "Hello world  ",
    "   leading spaces",
    "trailing spaces   ",
    "tab\tseparated\t\tvalues",
    "\t\tindented",
    "line one\nline two\n\nline four\n",
    "windows\r\nline\r\nendings\r\n",
    "old mac\rline\r",
    "mixed \t \n \r\n  whitespace\t\n",
    "    def foo(x):\n        return x  # comment\n",
    "if (a && b) { return c; }\n\telse {\n\t\treturn d;\n\t}",
    "I'm you're he's she'll we'd they've it's can't won't don't",
    "I'M YOU'RE HE'S SHE'LL WE'D THEY'VE IT'S CAN'T WON'T DON'T",
    "I'm You'Re He'S",
    "'s 't 're 've 'm 'll 'd",
    "'S 'T 'RE 'VE 'M 'LL 'D",
    "''s '''t 'x 's's",
    "rock'n'roll o'clock y'all ma'am",
    "\u2019s \u2019t don\u2019t it\u2019s",
    "0 1 12 123 1234 12345 123456 1234567890",
    "3.14159 -2.5e-10 1,000,000 1.000.000,50 0xDEADBEEF 0b1010 1_000",
    "$100 \u20ac50 \u00a330 \u00a51000 50% 3/4 1:2 10:30pm 2024-01-01T12:00:00Z",
    "+1 (555) 123-4567 v1.2.3 IPv4 192.168.0.1",
    "\u00b2 \u00b3 \u00bd \u2153 \u2163 \u2460 \u0663\u0664 \u096a \uff11\uff12 \U0001d7d9",
    "!!! ??? ... --- *** ### @@@ ,,, ;;;",
    "Hello!!! What??? Wait... ok---yes",
    "(parenthesis) [brackets] {braces} <angles>",
    "\"quoted\" 'single' `backtick` \u201ccurly\u201d \u2018curly\u2019",
    "a.b,c;d:e!f?g",
    "https://example.com/path?query=1&x=y#frag",
    "user@example.com",
    "#hashtag @mention",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "cafe\u0301 nai\u0308ve re\u0301sume\u0301 u\u0308ber",
    "\u212b \u2126 A\u030a \u00c5",
    "\u1100\u1161\u11a8 \ud55c\uad6d\uc5b4",
    "\u0301",
    "a\u0301\u0301\u0301",
    " \u0301",
    "\ufb01 \ufb02 \u01c5 \u01c6",
    "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
    "\u03b1\u0301 \u1f00 \u03ca\u0301",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0401\u0436 \u0439",
    "\u0438\u0306",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u4e2d\u6587\u5b57\u3002",
    "\u6211\u7231\u4f60 \u4f60\u597d\uff0c\u4e16\u754c\uff01",
    "\uff21\uff22\uff23 \uff71\uff72\uff73",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u0627\u0644\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u064e\u0651\u0629",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u0915\u094d\u0937",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\U0001f600 \U0001f44d \U0001f44d\U0001f3fd \u2764\ufe0f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308 \U0001f1fa\U0001f1f8 \U0001f1ef\U0001f1f5",
    "\U0001f9d1\U0001f3fe\u200d\U0001f4bb \u270c\U0001f3ff",
    "Hello \U0001f30d! \U0001f680\U0001f680\U0001f680",
    "\U0001f600\U0001f600",
    "<|endoftext|>",
    "<|endoftext|><|endoftext|>",
    "Hello<|endoftext|>world",
    "Hello <|endoftext|> world",
    "Hello<|endoftext|> world",
    " <|endoftext|>",
    "<|endoftext|> ",
    "<|endoftext|>\n",
    "<|endoftext",
    "endoftext|>",
    "<|padding|>",
    "a<|padding|>b",
    "</s>",
    "</s></s>",
    "Hello</s>world",
    "Hello </s> world",
    "<s>Hello</s>",
    "<pad><unk><mask>",
    "<|endoftext|></s><|padding|><pad>",
    "\x00",
    "a\x00b",
    "\x01\x02\x03\x1b[31mred\x1b[0m",
    "\x7f\x80\x9f",
    "bell\x07 backspace\x08 vt\x0b ff\x0c",
    "\x1c\x1d\x1e\x1f",
    "a\x1cb\x1dc\x1ed\x1ff",
    "nbsp\u00a0here",
    "nel\u0085here",
    "a \u00a0b",
    "\u00a0\u00a0",
    "zw\u200bsp \u200b",
    "bom\ufeffhere",
    "\ufeffstart",
    "mongolian\u180evs",
    "ideographic\u3000space",
    "line\u2028sep\u2029para",
    "em\u2003space thin\u2009space hair\u200a",
    "narrow\u202fnbsp math\u205fsp ogham\u1680mark",
    "zwj\u200dzwnj\u200cwj\u2060",
    "a" * 50,
    "ab" * 40,
    " " * 40,
    "\n" * 20,
    "!" * 30,
    "1" * 30,
    "x " * 30,
    "\U0001f600" * 10,
    "\u00e9" * 25,
    "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "ALLCAPS CamelCase snake_case kebab-case SCREAMING_SNAKE",
    "\U000e0041\U000e0042",
    "\U0010fffd \ue000 \ufffd",
    "\U0001d400\U0001d401 \U0001d538",
    "\u02b0\u02b1 \u00aa \u00ba",
    "\u2211 \u222b \u2264 \u2192 \u00b0 \u2122 \u00a9",
]

# Strings where the Llama 2 (SentencePiece-style), Llama 3 (tiktoken-style) and Qwen pipelines
# part from GPT-2's or from one another: Metaspace prepending, digit groups of up to three,
# case-insensitive contractions, byte fallback, and their special tokens inside the text.
LLAMA_HAND = [
    "\t", " \t ", "  \n  ", "\n\n", "a\n\nb", "a \n b", "\r\n\r\n", " \r\n", "x\r\n y",
    "Hello", " Hello", "  Hello", "Hello ", "Hello  ", " Hello ", "\tHello", "\nHello", "Hello\n",
    "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", " 1234 ",
    "a1234b", "1,234,567.89", "\u0661\u0662\u0663\u0664", "\uff11\uff12\uff13\uff14", "x\u00b2\u00b3\u00b9",
    "I'm I'M i'M It's IT'S it'S we'LL WE'll they'Re THEY'RE you'Ve YOU'VE she'D SHE'D don'T DON'T",
    "'S", "'s", "'ll'LL", "\u2019s \u2019S", "x'\u017f", "'\u212a", "O'Neil's", " 's", "'s'",
    "\u4f60\u597d\u4e16\u754c", "\u6211\u662f\u4e00\u4e2a\u6d4b\u8bd5\u3002", "\u3053\u3093\u306b\u3061\u306f", "\ud55c\uad6d\uc5b4 \ud14c\uc2a4\ud2b8",
    "\U0001f600", " \U0001f600", "\U0001f600 \U0001f601", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001d538\U0001d539", "\u01c5", "\U00010348", "\u0f00\u0f01", "\U0001f9ec\U0001fab8", "\u2603\u2604", "\U000e0067",
    "\u1400\u1680\u2ffb", "\ua9c1\ua9c2", "\U00016a40",
    "<s>", "</s>", "<unk>", "<s> ", " <s>", "<s>Hello", "Hello<s>", "a <s> b", "a<s>b", "<s><s>", "<s> </s>",
    "Hello</s> world", "Hello </s>world", "</s>\n", "\n<s>", "<s>\n\n</s>",
    "<|begin_of_text|>", "<|begin_of_text|>Hello", " <|begin_of_text|> ", "<|end_of_text|><|begin_of_text|>",
    "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<|reserved_special_token_5|>",
    "<|im_start|>", "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n", "<|im_end|>",
    "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ", "<think>\n\n</think>\n\n", "<tool_call>x</tool_call>",
    "<|vision_start|><|image_pad|><|vision_end|>", "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>",
    "\u2581", "\u2581\u2581", " \u2581 ", "\u2581Hello", "a\u2581b",
    "<0x0A>", "<0xFF>", "Hello<0x41>",
    "x" * 300, "\u4e00" * 120, " " * 100, "1" * 50, "\n" * 30,
]

# Code points whose whitespace/letter/number class is where regex engines disagree.
ODD = [
    "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680",
    "\u180e", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
    "\u2008", "\u2009", "\u200a", "\u200b", "\u200c", "\u200d", "\u2028", "\u2029", "\u202f",
    "\u205f", "\u2060", "\u3000", "\ufeff", "\x00", "\x7f", "\x80", "\xad", "\u034f", "\u061c",
    "\u2061", "\u00b2", "\u00bd", "\u2163", "\u0663", "\u00aa", "\u02b0", "\u01c5", "\u0301",
    "\u0903", "\u20dd", "\U0001f3fb", "\ufe0f", "\u3007", "\U00010341", "\u1369", "\u2070",
]
CONTEXTS = ["{c}", "a{c}b", "a {c}b", "a{c} b", "{c}{c}a", " {c}", "{c} ", "{c}{c}", "1{c}2",
            "!{c}!", "'{c}s", "{c}'s", "x  {c}  y", "{c}\n", "\n{c}"]

POOL = {
    "lower": list("abcdefghijklmnopqrstuvwxyz"),
    "upper": list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "digits": list("0123456789") + ["10", "2024", "3.14", "1,000"],
    "space": [" ", " ", " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", " \n", "\n\n"],
    "punct": list(".,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`"),
    "contraction": ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M",
                    "'LL", "'D", "'", "''"],
    "odd": ODD,
    "accents": ["\u00e9", "\u00e8", "\u00fc", "\u00f1", "\u00e7", "\u00c5", "e\u0301", "a\u0308",
                "n\u0303", "\u212b", "\u2126", "A\u030a", "\u01c5", "\ufb01", "\u0301",
                "\u0323\u0307", "o\u0323\u0302", "\u1e69"],
    "greek": list("\u03b1\u03b2\u03b3\u03b4\u0391\u0392\u0393\u0394\u03ac\u03ad\u03ae\u03af\u03b0"),
    "cyrillic": list("\u0430\u0431\u0432\u0433\u0434\u0410\u0411\u0412\u0413\u0414\u0451\u0401\u0439")
    + ["\u0438\u0306"],
    "cjk": list("\u65e5\u672c\u8a9e\u4e2d\u6587\u5b57\u6f22") + ["\u3002", "\u3001", "\u300c",
                                                                "\u300d", "\uff11\uff12\uff13",
                                                                "\uff71\uff72\uff73", "\u3042\u3044"],
    "hangul": ["\ud55c\uad6d\uc5b4", "\u1100\u1161\u11a8", "\u1100\u1161"],
    "arabic": ["\u0645\u0631\u062d\u0628\u0627", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
               "\u064b", "\u0663\u0664\u0665"],
    "devanagari": ["\u0928\u092e\u0938\u094d\u0924\u0947", "\u0939\u093f\u0928\u094d\u0926\u0940",
                   "\u0915\u094d\u0937", "\u0966\u0967\u0968"],
    "thai": ["\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22"],
    "emoji": ["\U0001f600", "\U0001f44d", "\U0001f44d\U0001f3fd",
              "\U0001f468\u200d\U0001f469\u200d\U0001f467",
              "\U0001f3f3\ufe0f\u200d\U0001f308", "\u2764\ufe0f", "\u270c\U0001f3ff",
              "\U0001f1fa\U0001f1f8", "\U0001f9d1\u200d\U0001f4bb", "\u2603"],
    "numbers": ["\u00b2", "\u00bd", "\u2163", "\u2460", "\u0663", "\u0967", "\U0001d7d9",
                "1,000", "3.14", "-42", "1e10", "0x1F", "12:30", "2024-01-01", "$5.99", "50%"],
    "special": ["<|endoftext|>", "<|padding|>", "</s>", "<s>", "<pad>", "<unk>",
                "<|endoftext", "|>", "<|", "<"],
    "spacerun": [" " * k for k in range(2, 31)],
    "words": ["the", "The", "Hello", "world", "don", "isn", "I", " hello", " world", "na\u00efve",
              "caf\u00e9", "Stra\u00dfe", "\u0130stanbul", "\u01c6", "reality", "mathematical",
              "interconnected"],
    "math": ["\u2211", "\u222b", "\u2264", "\u2192", "\U0001d538", "\u00b0", "\u2122", "\u00a9"],
    "control": ["\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x80", "\x9f"],
}


def random_strings(rng: random.Random, n: int):
    keys = list(POOL)
    weights = [6 if k in ("lower", "space", "words") else 2 if k in ("upper", "punct", "digits",
                                                                    "contraction", "spacerun")
               else 1 for k in keys]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 14)):
            k = rng.choices(keys, weights)[0]
            item = rng.choice(POOL[k])
            if k in ("lower", "upper") and rng.random() < 0.7:
                item = "".join(rng.choice(POOL[k]) for _ in range(rng.randint(1, 8)))
            parts.append(item)
        out.append("".join(parts))
    return out


def wild_char(rng: random.Random) -> str:
    """A random assigned code point (Python's Unicode database), surrogates excluded."""
    import unicodedata
    while True:
        cp = rng.choice([rng.randrange(0x80, 0x3000), rng.randrange(0x3000, 0x10000),
                         rng.randrange(0x10000, 0x20000), rng.randrange(0, 0x80)])
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.category(c) != "Cn":
            return c


def wild_strings(rng: random.Random, n: int):
    out = random_strings(rng, n)
    for i in range(0, len(out), 2):
        chars = list(out[i])
        for _ in range(rng.randint(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1), wild_char(rng))
        out[i] = "".join(chars)
    return out


def corpus_slices(rng: random.Random, corpus_dir: str):
    out = []
    for name in sorted(os.listdir(corpus_dir)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(corpus_dir, name), encoding="utf-8", newline="") as f:
            text = f.read()
        out.append(text[:3000])
        for _ in range(8):
            length = rng.choice([50, 200, 700, 2000])
            start = rng.randrange(0, max(1, len(text) - length))
            out.append(text[start:start + length])
    return out


def build_inputs(corpus_dir: str):
    rng = random.Random(20240607)
    inputs = list(HAND) + LLAMA_HAND
    for c in ODD:
        inputs.extend(ctx.format(c=c) for ctx in CONTEXTS)
    for k in range(1, 32):
        inputs.append("a" + " " * k + "b")
        inputs.append(" " * k + "x")
        inputs.append("x" + " " * k)
        inputs.append("x" + " " * k + "\n" + " " * k + "y")
        inputs.append("x" + "\t" * k + "y")
    inputs.extend(random_strings(rng, 2500))
    inputs.extend(corpus_slices(rng, corpus_dir))
    seen, unique = set(), []
    for s in inputs:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


# ---------------------------------------------------------------------------------------------


# The same tokenizer.json under other transformers classes and settings, as other model folders
# of these families have them: Mistral-style LlamaTokenizer with legacy false, a config.json of
# model_type "mistral" (AutoTokenizer then runs tokenizer.json as it is, Prepend + Replace
# normalizer included), GemmaTokenizer's pipeline, and the generic class for Qwen and Llama 3.
# The C++ test builds each folder the same way: a link to BASE's tokenizer.json beside the
# tokenizer_config.json and config.json written here.
VARIANTS = {
    "llama2-legacy-false": ("llama2", {"tokenizer_class": "LlamaTokenizer", "legacy": False, "add_bos_token": True,
                                       "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, None),
    "llama2-no-prefix-space": ("llama2", {"tokenizer_class": "LlamaTokenizerFast", "add_prefix_space": False,
                                          "legacy": True}, None),
    "llama2-mistral-config": ("llama2", {"tokenizer_class": "LlamaTokenizer", "legacy": True},
                              {"model_type": "mistral"}),
    "llama2-generic": ("llama2", {"tokenizer_class": "PreTrainedTokenizerFast"}, None),
    "llama2-gemma": ("llama2", {"tokenizer_class": "GemmaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                                "unk_token": "<unk>", "pad_token": None, "mask_token": None}, None),
    "qwen3-generic": ("qwen3", {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>"}, None),
    "qwen3-qwen2-config": ("qwen3", {"tokenizer_class": "PreTrainedTokenizerFast"}, {"model_type": "qwen2"}),
    "llama3-eos": ("llama3", {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": True,
                              "add_eos_token": True, "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"},
                   None),
}


def variant_vectors(tok_root: str, texts):
    import tempfile
    from transformers import AutoTokenizer

    out = {}
    for name, (base, tok_config, config) in VARIANTS.items():
        with tempfile.TemporaryDirectory() as d:
            os.symlink(os.path.abspath(os.path.join(tok_root, base, "tokenizer.json")), os.path.join(d, "tokenizer.json"))
            with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
                json.dump(tok_config, f)
            if config is not None:
                with open(os.path.join(d, "config.json"), "w") as f:
                    json.dump(config, f)
            tok = AutoTokenizer.from_pretrained(d)
            out[name] = {"base": base, "tokenizer_config": tok_config, "config": config,
                         "class": type(tok).__name__, "len": len(tok),
                         "cases": [[t, tok(t)["input_ids"]] for t in texts]}
    return out


def load_tokenizers(tok_root: str):
    from transformers import AutoTokenizer

    toks = {}
    for name in TOKENIZERS:
        path = os.path.join(tok_root, name)
        try:
            toks[name] = AutoTokenizer.from_pretrained(path)
        except Exception as e:  # record and carry on with the others
            print(f"[{name}] failed to load: {e!r}", file=sys.stderr)
    return toks


def pipeline_summary(tok):
    """The tokenizers pipeline transformers built (without vocab and merges), for inspection."""
    try:
        j = json.loads(tok.backend_tokenizer.to_str())
        j.get("model", {}).pop("vocab", None)
        j.get("model", {}).pop("merges", None)
        return j
    except Exception as e:
        return {"error": repr(e)}


def generate(data_dir: str, out_dir: str, seed=None):
    import transformers
    import tokenizers

    toks = load_tokenizers(os.path.join(data_dir, "tokenizers"))
    corpus_dir = os.path.join(data_dir, "corpus")
    inputs = build_inputs(corpus_dir) if seed is None else wild_strings(random.Random(seed), 6000)
    hand = set(HAND) | set(LLAMA_HAND)
    cases = []
    for s in inputs:
        case = {"text": s, "ids": {}}
        if s in hand and seed is None:
            case["decoded"], case["labels"] = {}, {}
        for name, tok in toks.items():
            try:
                ids = tok(s)["input_ids"]
                case["ids"][name] = ids
                if "labels" in case:
                    backend = tok.backend_tokenizer
                    case["decoded"][name] = backend.decode(ids, skip_special_tokens=False)
                    case["labels"][name] = [backend.decoder.decode([t]) if backend.decoder else t
                                            for t in tok.convert_ids_to_tokens(ids)]
            except Exception as e:
                print(f"[{name}] failed on {s!r}: {e!r}", file=sys.stderr)
        cases.append(case)

    corpus = []
    for fname in sorted(os.listdir(corpus_dir)) if seed is None else []:
        if not fname.endswith(".txt"):
            continue
        raw = open(os.path.join(corpus_dir, fname), "rb").read()
        text = raw.decode("utf-8")
        entry = {"file": fname, "bytes": len(raw)}
        for name, tok in toks.items():
            ids = tok(text)["input_ids"]
            entry[name] = {"n": len(ids), "fnv1a64": ids_hash(ids), "head": ids[:32]}
        corpus.append(entry)

    variants = {} if seed is not None else variant_vectors(
        os.path.join(data_dir, "tokenizers"), list(HAND) + LLAMA_HAND + inputs[len(HAND) + len(LLAMA_HAND):][:800])
    meta = {}
    for name, tok in toks.items():
        meta[name] = {"class": type(tok).__name__, "len": len(tok),
                      "special_tokens": {k: str(v) for k, v in tok.special_tokens_map.items()}}
    doc = {
        "generator": "scripts/gen_tokenizer_vectors.py",
        "reference": "transformers.AutoTokenizer.from_pretrained(dir)(text)['input_ids']",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "ids_hash": "FNV-1a 64 over the ASCII of the ids joined by ','",
        "meta": meta,
        "cases": cases,
        "corpus": corpus,
        "variants": variants,
    }
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "tokenizer_vectors.json" if seed is None
                        else f"tokenizer_vectors_seed{seed}.json")
    with open(path, "w", encoding="ascii") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
    with open(os.path.join(out_dir, "hf_pipelines.json"), "w") as f:
        json.dump({n: pipeline_summary(t) for n, t in toks.items()}, f, indent=1)
    print(f"wrote {len(cases)} cases to {path} ({os.path.getsize(path)} bytes)")


def bench(data_dir: str, out_dir: str):
    """Single-core throughput of HF `tokenizers` on tinyshakespeare (run under taskset -c 0)."""
    from transformers import AutoTokenizer
    import tokenizers

    raw = open(os.path.join(data_dir, "corpus", "tinyshakespeare.txt"), "rb").read()
    text = raw.decode("utf-8")
    lines = text.splitlines(keepends=True)
    mb = len(raw) / 1e6
    report = [f"tokenizers {tokenizers.__version__}, affinity {sorted(os.sched_getaffinity(0))}, "
              f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS')}, {len(raw)} bytes"]
    for name in TOKENIZERS:
        path = os.path.join(data_dir, "tokenizers", name)
        # The pipeline AutoTokenizer runs (for Llama 2 not the file's own normalizer).
        tk = AutoTokenizer.from_pretrained(path).backend_tokenizer
        for mode in ("whole", "batch_lines"):
            best, ntok = 1e9, 0
            for _ in range(3):
                t0 = time.perf_counter()
                if mode == "whole":
                    ntok = len(tk.encode(text).ids)
                else:
                    ntok = sum(len(e.ids) for e in tk.encode_batch(lines))
                best = min(best, time.perf_counter() - t0)
            report.append(f"HF {name:6s} {mode:11s}: {ntok} tokens in {best:.3f} s = "
                          f"{ntok / best / 1e6:.3f} Mtok/s, {mb / best:.2f} MB/s")
    text_out = "\n".join(report)
    print(text_out)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "hf_bench.txt"), "w") as f:
        f.write(text_out + "\n")


COMPONENT_TEXTS = [
    "", " ", "  ", "Hello world", " Hello  world ", "\tTab\nnew line\r\n", "a  b   c", "x\u3000y\u00a0z",
    "I'm DON'T we'LL", "abc123def4567", "3.14 and 1,000,000", "\u0661\u0662 \u00bd\u2163", "Hi! What?? ok...",
    "(a)[b]{c}", "caf\u00e9 cafe\u0301 \ufb01 \u212b", "\u0130STANBUL \u03a3\u0391\u03a3 \u1e9e", "\u4f60\u597d\uff0c\u4e16\u754c\uff01",
    "\U0001f600 \U0001f44d\U0001f3fd", "a\u2581b \u2581c", "__x__y__", "--a--", "a-b_c d",
]


def component_vectors(out_dir: str):
    """Each pipeline component alone, on COMPONENT_TEXTS, through the tokenizers library."""
    import tokenizers
    from tokenizers import Regex, Tokenizer
    from tokenizers import decoders as D, models as M, normalizers as N, pre_tokenizers as P

    def state(obj):
        return json.loads(obj.__getstate__())

    normalizers = [N.NFC(), N.NFD(), N.NFKC(), N.NFKD(), N.Lowercase(), N.Strip(), N.Strip(left=False),
                   N.Strip(right=False), N.Prepend("\u2581"), N.Replace(" ", "\u2581"), N.Replace("__", "_"),
                   N.Replace(Regex(r"\s+"), " "), N.Replace(Regex(r"[0-9]"), "#"),
                   N.Sequence([N.Prepend("\u2581"), N.Replace(" ", "\u2581")]),
                   N.Sequence([N.NFKC(), N.Lowercase(), N.Strip()])]
    pres = [P.Whitespace(), P.WhitespaceSplit(), P.Punctuation(), P.Punctuation("removed"),
            P.Punctuation("merged_with_previous"), P.Punctuation("merged_with_next"), P.Punctuation("contiguous"),
            P.Digits(individual_digits=True), P.Digits(individual_digits=False),
            P.Metaspace(), P.Metaspace(prepend_scheme="first"), P.Metaspace(prepend_scheme="never"),
            P.Metaspace(prepend_scheme="always", split=False), P.ByteLevel(add_prefix_space=True),
            P.ByteLevel(add_prefix_space=False, use_regex=False)]
    for behavior in ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"):
        for invert in (False, True):
            pres.append(P.Split(" ", behavior, invert=invert))
            pres.append(P.Split(Regex(r"\p{N}+|[!?.]"), behavior, invert=invert))
    pres.append(P.Split(Regex(r"\s*"), "isolated"))
    pres.append(P.Split(Regex(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"), "isolated"))
    pres.append(P.Sequence([P.WhitespaceSplit(), P.Digits(individual_digits=True), P.Punctuation()]))

    def pieces(pre, text):
        out = [p for p, _ in pre.pre_tokenize_str(text)]
        if isinstance(pre, P.ByteLevel):  # back from the byte alphabet to the raw bytes
            table = {c: b for b, c in enumerate(_byte_alphabet())}
            out = [bytes(table[c] for c in p).decode("utf-8", "replace") for p in out]
        return out

    token_lists = [["\u2581Hello", "\u2581world"], ["<0xE4>", "<0xBD>", "<0xA0>", "a"], ["<0xE4>", "b", "<0xFF>"],
                   ["\u0120Hello", "\u0120w", "orld", "\u010a"], ["  a ", " b  "], ["\u2581", "\u2581\u2581x"],
                   ["<s>", "\u2581Hi"], []]
    decs = [D.ByteLevel(), D.Metaspace(), D.Metaspace(prepend_scheme="never"), D.ByteFallback(), D.Fuse(),
            D.Strip(" ", 1, 0), D.Strip(" ", 2, 2), D.Replace("\u2581", " "),
            D.Sequence([D.Replace("\u2581", " "), D.ByteFallback(), D.Fuse(), D.Strip(" ", 1, 0)])]

    vocab = {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "abc": 5, "##b": 6, "##c": 7, "a##b": 8,
             "c</w>": 9, "b</w>": 10, "abc</w>": 11, "ab</w>": 12, "bc": 13, "bc</w>": 14, "##bc": 15}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    models = [
        ("byte_fallback", M.BPE(vocab, [("a", "b"), ("ab", "c")], byte_fallback=True, unk_token="<unk>")),
        ("unk", M.BPE(vocab, [("a", "b"), ("ab", "c")], unk_token="<unk>")),
        ("fuse_unk", M.BPE(vocab, [("a", "b"), ("ab", "c")], unk_token="<unk>", fuse_unk=True)),
        ("no_unk", M.BPE(vocab, [("a", "b"), ("ab", "c")])),
        ("prefix", M.BPE(vocab, [("a", "##b"), ("##b", "##c")], continuing_subword_prefix="##", unk_token="<unk>")),
        ("suffix", M.BPE(vocab, [("b", "c</w>"), ("a", "bc</w>"), ("a", "b")], end_of_word_suffix="</w>",
                         unk_token="<unk>")),
        ("ignore_merges", M.BPE({**vocab, "abcab": len(vocab)}, [("a", "b"), ("ab", "c")], ignore_merges=True)),
    ]
    model_texts = ["abc", "ab c", "abcab", "xyz", "axbyc", "a\u00e9b", "cab", "bca", "\u4f60a", "abcabc"]
    doc = {"generator": "scripts/gen_tokenizer_vectors.py --components", "tokenizers": tokenizers.__version__,
           "normalizers": [{"spec": state(n), "cases": [[t, n.normalize_str(t)] for t in COMPONENT_TEXTS]}
                           for n in normalizers],
           "pre_tokenizers": [{"spec": state(p), "cases": [[t, pieces(p, t)] for t in COMPONENT_TEXTS]}
                              for p in pres],
           "decoders": [{"spec": state(d), "cases": [[ts, d.decode(ts)] for ts in token_lists]} for d in decs],
           "models": []}
    for name, model in models:
        tok = Tokenizer(model)
        tok.pre_tokenizer = P.WhitespaceSplit()
        spec = json.loads(tok.to_str())
        doc["models"].append({"name": name, "tokenizer": spec,
                              "cases": [[t, tok.encode(t).ids] for t in model_texts]})
    path = os.path.join(out_dir, "component_vectors.json")
    with open(path, "w", encoding="ascii") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def _byte_alphabet():
    """GPT-2's bytes_to_unicode(): the character standing for each byte 0..255."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if "--bench" in sys.argv[3:]:
        os.environ.setdefault("RAYON_NUM_THREADS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        bench(sys.argv[1], sys.argv[2])
    elif "--components" in sys.argv[3:]:
        component_vectors(sys.argv[2])
    elif "--seed" in sys.argv[3:]:
        generate(sys.argv[1], sys.argv[2], int(sys.argv[sys.argv.index("--seed") + 1]))
    else:
        generate(sys.argv[1], sys.argv[2])
