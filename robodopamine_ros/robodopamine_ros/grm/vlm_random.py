# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Randomly initialised Qwen-VL models built offline, for tests and timings.

build_random_vlm(folder, size='tiny', family='qwen2.5') writes a complete local model folder
(config, weights, tokenizer, image processor) that loads through the same path as a released
GRM. 'tiny' runs on a CPU in milliseconds; '3b' has the Qwen2.5-VL-3B shapes (random weights:
for timing only). family='qwen3' builds a tiny Qwen3-VL (the GRM 2.0 generation).
"""

from pathlib import Path

SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|vision_start|>',
                  '<|vision_end|>', '<|image_pad|>', '<|video_pad|>']

SIZES = {
    'tiny': {'text': {'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2,
                      'num_attention_heads': 2, 'num_key_value_heads': 1},
             'vision': {'depth': 2, 'hidden_size': 32, 'intermediate_size': 64, 'num_heads': 2,
                        'fullatt_block_indexes': [1]},
             'mrope': [2, 3, 3]},
    '3b': {'text': {'hidden_size': 2048, 'intermediate_size': 11008, 'num_hidden_layers': 36,
                    'num_attention_heads': 16, 'num_key_value_heads': 2},
           'vision': {'depth': 32, 'hidden_size': 1280, 'intermediate_size': 3420,
                      'num_heads': 16, 'fullatt_block_indexes': [7, 15, 23, 31]},
           'mrope': [16, 24, 24]},
}


def build_tokenizer(corpus_text):
    """Train a small byte-level BPE tokenizer with the Qwen-VL special tokens."""
    from tokenizers import decoders, models, pre_tokenizers, Tokenizer, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator([corpus_text], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token='<|im_end|>',
                                   pad_token='<|endoftext|>', unk_token=None,
                                   padding_side='left')


def build_random_vlm(folder, size='tiny', seed=0, family='qwen2.5'):
    """Write a random Qwen-VL model folder; returns its path."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil)

    from robodopamine_ros.grm.vlm import DEFAULT_TEMPLATE, MAX_PIXELS, MIN_PIXELS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = DEFAULT_TEMPLATE.read_text() + ' 0123456789 +-.% <score> </score> ' * 20
    tokenizer = build_tokenizer(corpus)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    shape = SIZES[size]
    head_dim = shape['text']['hidden_size'] // shape['text']['num_attention_heads']
    assert sum(shape['mrope']) == head_dim // 2, 'mrope sections must cover head_dim / 2'
    special = {'image_token_id': ids['<|image_pad|>'], 'video_token_id': ids['<|video_pad|>'],
               'vision_start_token_id': ids['<|vision_start|>'],
               'vision_end_token_id': ids['<|vision_end|>']}
    text = dict(vocab_size=len(tokenizer), max_position_embeddings=32768,
                pad_token_id=ids['<|endoftext|>'], **shape['text'])
    if family == 'qwen3':
        if size != 'tiny':
            raise ValueError('only a tiny Qwen3-VL is built here')
        from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration
        patch = 16
        text.update(head_dim=head_dim, rope_parameters={
            'rope_type': 'default', 'rope_theta': 5e6, 'mrope_section': shape['mrope'],
            'mrope_interleaved': True})
        config = Qwen3VLConfig(
            text_config=text, vision_config={
                'depth': 2, 'hidden_size': 32, 'intermediate_size': 64, 'num_heads': 2,
                'patch_size': patch, 'spatial_merge_size': 2, 'temporal_patch_size': 2,
                'out_hidden_size': shape['text']['hidden_size'], 'num_position_embeddings': 64,
                'deepstack_visual_indexes': [1]}, **special)
        model_class = Qwen3VLForConditionalGeneration
    elif family == 'qwen2.5':
        patch = 14
        text.update(rope_parameters={'rope_type': 'default', 'rope_theta': 1e6,
                                     'mrope_section': shape['mrope']},
                    bos_token_id=ids['<|endoftext|>'], eos_token_id=ids['<|im_end|>'])
        config = Qwen2_5_VLConfig(
            text_config=text, vision_config=dict(
                out_hidden_size=shape['text']['hidden_size'], patch_size=patch,
                spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                **shape['vision']), **special)
        model_class = Qwen2_5_VLForConditionalGeneration
    else:
        raise ValueError(f'family must be qwen2.5 or qwen3, got {family!r}')
    torch.manual_seed(seed)
    model = model_class(config)
    model.generation_config.eos_token_id = ids['<|im_end|>']
    model.generation_config.pad_token_id = ids['<|endoftext|>']
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    processor = Qwen2VLImageProcessorPil(patch_size=patch, size={'shortest_edge': MIN_PIXELS,
                                                                 'longest_edge': MAX_PIXELS})
    processor.save_pretrained(folder)
    return folder
