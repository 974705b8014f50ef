"""A tiny MarianMT translator made here, for tests and `I2V_MODEL=tiny`: never downloaded.

Its SentencePiece tokenizers are trained on the few sentences below, the model is built
from a config with random weights and then fitted to those sentence pairs until greedy
decoding gives back every English line (a few hundred steps, seconds on a CPU). It is saved
with save_pretrained and loaded through the same transformers calls as opus-mt, so a test
that sends "一只猫在慢慢地转头" can check that I2VGen-XL read "a cat is turning its head
slowly". Any other sentence comes out as some English words: it knows no other.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import torch

from engine.random_weights import SEED, ensure_built

logger = logging.getLogger(__name__)

NAME = "tiny-opus-mt"
# What it translates: Chinese prompts and negative prompts, and a few other languages.
PAIRS = (
    ("一只猫在慢慢地转头", "a cat is turning its head slowly"),
    ("海浪拍打着岸边", "waves are crashing on the shore"),
    ("一个女人在微笑着挥手", "a woman is smiling and waving"),
    ("模糊，变形", "blurry, distorted"),
    ("un chat tourne lentement la tête", "a cat is turning its head slowly"),
    ("las olas rompen en la orilla", "waves are crashing on the shore"),
    ("ein Hund läuft am Strand", "a dog is running on the beach"),
)
MAX_STEPS = 1500
MAX_POSITIONS = 64  # tokens in and out


def ensure_tiny_translator(models_dir: Path) -> Path:
    return ensure_built(models_dir, NAME, build_tiny_translator, marker="config.json")


def _train_spm(sentences: list[str], path: Path) -> list[str]:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=60,
        hard_vocab_limit=False, model_type="unigram", character_coverage=1.0,
        unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, num_threads=1, minloglevel=2)
    path.write_bytes(model.getvalue())
    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def build_tiny_translator(folder: Path) -> Path:
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    sources, targets = [s for s, _ in PAIRS], [t for _, t in PAIRS]
    pieces = _train_spm(sources, folder / "source.spm") + _train_spm(targets,
                                                                     folder / "target.spm")
    # As opus-mt's vocab.json: end of sentence first, then unknown, the pieces, pad last.
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    tokenizer = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                                str(folder / "vocab.json"), source_lang="mul",
                                target_lang="en")
    size, pad = len(vocab), vocab["<pad>"]
    config = MarianConfig(vocab_size=size, decoder_vocab_size=size, d_model=32,
                          encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=MAX_POSITIONS, pad_token_id=pad,
                          decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
                          share_encoder_decoder_embeddings=True)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # tensors this small only lose time to thread hand-offs
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            model = _fitted(MarianMTModel(config), tokenizer, sources, targets)
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder



def _fitted(model, tokenizer, sources: list[str], targets: list[str]):  # type: ignore[no-untyped-def]
    batch = tokenizer(sources, text_target=targets, return_tensors="pt", padding=True)
    batch["labels"][batch["labels"] == tokenizer.pad_token_id] = -100  # no loss on padding
    inputs = tokenizer(sources, return_tensors="pt", padding=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(1, MAX_STEPS + 1):
        model.train()
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0:
            model.eval()
            with torch.no_grad():
                out = model.generate(**inputs, max_new_tokens=32, num_beams=1,
                                     do_sample=False)
            if tokenizer.batch_decode(out, skip_special_tokens=True) == targets:
                logger.info("tiny translator fitted in %d steps", step)
                return model.eval()
    raise RuntimeError(f"the tiny translator did not learn its {len(targets)} sentences in "
                       f"{MAX_STEPS} steps")
