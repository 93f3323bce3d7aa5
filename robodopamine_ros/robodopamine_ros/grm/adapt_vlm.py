# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
One-shot fine-tuning of a VLM GRM on one demonstration (docs/method.md#hop-labels; a GPU job).

Each sample of the balanced label set (reward core, docs/method.md#hop-labels) becomes a query
whose target text is the score line (``<score>+NN.N%</score>``); the loss is token cross-entropy on
those answer tokens only. LoRA (peft) on the language model's attention projections by default, or
full fine-tuning. The result is saved as a complete model folder (LoRA merged) that VLMGRM.load
reads; the folder is written beside and swapped in whole (grm.model_folder).
"""

from dataclasses import dataclass
from pathlib import Path
import shutil

import numpy as np
from robodopamine_ros.grm.base import label_queries
from robodopamine_ros.grm.vlm import format_score


@dataclass
class VLMTrainConfig:
    steps: int = 300
    batch: int = 4
    lr: float = 1e-4
    lora_rank: int = 16        # 0 = full fine-tuning
    samples: int = 1000
    seed: int = 0


def answer_mask(input_ids, answer_lengths):
    """Labels for causal-LM loss: only each row's last answer_lengths[i] tokens count."""
    labels = input_ids.clone()
    labels[:] = -100
    for row, n in enumerate(answer_lengths):
        labels[row, -n:] = input_ids[row, -n:]
    return labels


def fine_tune_vlm(grm, episode, config=None, on_step=None):
    """Fine-tune grm (a VLMGRM) in place; returns the list of losses."""
    config = VLMTrainConfig() if config is None else config
    import torch

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    samples, queries = label_queries(episode, config.samples, config.seed)
    hops = np.array([s.hop for s in samples])
    model = grm.model
    if config.lora_rank:
        from peft import get_peft_model, LoraConfig
        lora = LoraConfig(r=config.lora_rank, lora_alpha=2 * config.lora_rank,
                          lora_dropout=0.0,
                          target_modules=r'.*language_model.*\.(q_proj|k_proj|v_proj|o_proj)')
        model = get_peft_model(model, lora)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=config.lr)
    eos = grm.processor.tokenizer.eos_token
    losses = []
    for step in range(1, config.steps + 1):
        index = rng.choice(len(queries), size=config.batch, replace=False)
        answers = [format_score(float(hops[i])) + eos for i in index]
        batch = grm.inputs([queries[i] for i in index], answers)
        lengths = [len(grm.processor.tokenizer(a, add_special_tokens=False)['input_ids'])
                   for a in answers]
        batch['labels'] = answer_mask(batch['input_ids'], lengths)
        loss = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if on_step:
            on_step(step, losses[-1])
    if config.lora_rank:
        model = model.merge_and_unload()
    grm.model = model.eval()
    return losses


def save_vlm(grm, folder):
    """
    Save model + processor + prompt template as folder, atomically (grm.model_folder).

    A process killed mid-save leaves the previous folder whole, or the new one.
    """
    from robodopamine_ros.grm.model_folder import replace_folder

    folder = Path(folder)
    with replace_folder(folder, keep_others=False) as new:
        grm.model.save_pretrained(new)
        grm.processor.save_pretrained(new)
        shutil.copy(grm.template.path, new / 'prompt_template.txt')
    return folder
