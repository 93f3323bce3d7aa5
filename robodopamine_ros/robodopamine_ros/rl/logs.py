# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Training logs: one CSV row per episode, and the same scalars for TensorBoard.

Each row names the reward contract its rewards were shaped under (column ``reward_contract``:
the contract's digest, reward/contract.py); the contracts themselves are kept beside the CSV in
``reward_contracts.json`` (digest -> contract), written whole and atomically.
"""

import csv
import json
from pathlib import Path

CONTRACTS_FILE = 'reward_contracts.json'
TEXT_COLUMNS = ('reward_contract',)   # kept as text by read_log


class TrainingLog:
    """
    Append per-episode rows to folder/episodes.csv and scalars to TensorBoard event files.

    TensorBoard files are written when the tensorboard package is installed (it is in our
    requirements); the CSV always. Reopening a folder appends (a resumed run continues it).
    """

    def __init__(self, folder, tensorboard=True):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.folder / 'episodes.csv'
        self._file, self._writer, self._fields = None, None, None
        self.tensorboard = None
        self.contract = None   # the reward contract of the rows logged from now on
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # pragma: no cover - tensorboard is a requirement
                SummaryWriter = None
            if SummaryWriter is not None:
                self.tensorboard = SummaryWriter(str(self.folder / 'tensorboard'))

    def truncate_after(self, episode):
        """
        Drop the CSV rows of episodes after `episode`.

        A resume restarts from its checkpoint, so episodes logged after the last checkpoint
        run again and would otherwise be logged twice.
        """
        if not self.csv_path.is_file() or self._writer is not None:
            return
        lines = self.csv_path.read_text().splitlines(keepends=True)
        if not lines:
            return
        header = next(csv.reader(lines[:1]), [])
        column = header.index('episode') if 'episode' in header else 0   # else the first
        rows = list(csv.reader(lines[1:]))
        keep = [line for line, row in zip(lines[1:], rows)
                if len(row) > column and float(row[column]) <= episode]
        if len(keep) < len(rows):
            from robodopamine_ros.data.atomic import atomic_path

            with atomic_path(self.csv_path) as tmp:
                tmp.write_text(lines[0] + ''.join(keep))

    def set_contract(self, contract):
        """
        Name `contract` (a reward.contract.RewardContract) in every row logged from now on.

        It is added to reward_contracts.json (written beside, then renamed). A CSV begun
        before contracts were logged keeps its columns: its rows do not name one. The rows
        name it even when the file cannot be written: OSError, or ContractError for an
        existing file that does not read (it is left as it is, never overwritten).
        """
        from robodopamine_ros.data.atomic import atomic_path

        self.contract = contract
        known = read_contracts(self.folder, parse=False)
        if known.get(contract.digest) != contract.to_dict():
            known[contract.digest] = contract.to_dict()
            with atomic_path(self.folder / CONTRACTS_FILE) as tmp:
                tmp.write_text(json.dumps(known, indent=1, sort_keys=True) + '\n')

    def episode(self, row):
        """Log one episode's flat dict of numbers; the first row fixes the CSV columns."""
        row = dict(row, reward_contract=self.contract.digest if self.contract else '')
        if self._writer is None:
            exists = self.csv_path.is_file() and self.csv_path.stat().st_size > 0
            if exists:
                with open(self.csv_path, newline='') as f:
                    self._fields = next(csv.reader(f))
            else:
                self._fields = list(row)
            self._file = open(self.csv_path, 'a', newline='')
            self._writer = csv.DictWriter(self._file, self._fields, extrasaction='ignore')
            if not exists:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        if self.tensorboard is not None:
            step = int(row['episode'])
            for key, value in row.items():
                if key != 'episode' and isinstance(value, (int, float)):
                    self.tensorboard.add_scalar(f'episode/{key}', value, step)

    def scalar(self, tag, value, step):
        if self.tensorboard is not None:
            self.tensorboard.add_scalar(tag, value, step)

    def close(self, timeout_s=2.0):
        """
        Close the CSV, then the TensorBoard writer, waiting at most timeout_s for the latter.

        TensorBoard's writer joins its writer thread on close; in a node shut down by SIGINT
        that join was seen to hang (a launch test: rl_agent_node stuck in
        ``EventFileWriter.close`` until launch killed it). The CSV is flushed row by row; a
        writer that does not finish in time is left to its daemon thread, losing at most its
        unflushed scalars.
        """
        import threading

        if self._file is not None:
            self._file.close()
        if self.tensorboard is not None:
            closer = threading.Thread(target=self.tensorboard.close, name='tensorboard-close',
                                      daemon=True)
            closer.start()
            closer.join(timeout_s)
            self.tensorboard = None


BOOLEANS = {'True': 1.0, 'False': 0.0}


def read_contracts(folder, parse=True):
    """
    Return {digest: RewardContract} of folder/reward_contracts.json ({} when it is absent).

    parse=False: the plain dicts. Raises ContractError naming the file and the entry that is not
    a contract, or whose digest is not its own.
    """
    from robodopamine_ros.reward.contract import ContractError, RewardContract

    path = Path(folder) / CONTRACTS_FILE
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text())
    except (ValueError, RecursionError) as error:
        raise ContractError(f'{path}: not JSON ({error})') from None
    if not isinstance(entries, dict):
        raise ContractError(f'{path}: expected a mapping of digests to contracts')
    if not parse:
        return entries
    contracts = {}
    for digest, values in entries.items():
        contract = RewardContract.from_dict(values, f'{path}: {digest}')
        if contract.digest != digest:
            raise ContractError(f'{path}: entry {digest} is the contract {contract.digest} '
                                '(edited by hand?)')
        contracts[digest] = contract
    return contracts


def _number(text):
    if text in ('', None):
        return float('nan')
    return BOOLEANS[text] if text in BOOLEANS else float(text)


def read_log(folder):
    """
    Return the episode rows of folder/episodes.csv as dicts of floats (True = 1.0).

    TEXT_COLUMNS (the reward contract's digest) stay text.
    """
    with open(Path(folder) / 'episodes.csv', newline='') as f:
        return [{k: v if k in TEXT_COLUMNS else _number(v) for k, v in row.items()}
                for row in csv.DictReader(f)]


def peak_rss_mb():
    """Return this process's peak resident memory so far (MB; ru_maxrss is in KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def training_rows(csv_path):
    """Return the training log's outcome columns per episode (booleans and counts parsed)."""
    import csv

    if not csv_path.is_file():
        return []
    with open(csv_path, newline='') as f:
        rows = list(csv.DictReader(f))
    flags = ('success', 'detector_success', 'sim_success', 'rejected')
    return [dict(r, **{k: r.get(k) == 'True' for k in flags},
                 labels=int(float(r.get('labels') or 0)),
                 takeovers=int(float(r.get('takeovers') or 0))) for r in rows]


def operator_effort(rows):
    """Return the operator's effort over training: labels and takeovers per episode."""
    n = max(1, len(rows))
    return {'labels_per_episode': sum(r['labels'] for r in rows) / n,
            'takeovers_per_episode': sum(r['takeovers'] for r in rows) / n,
            'labels': [r['labels'] for r in rows], 'takeovers': [r['takeovers'] for r in rows]}


def training_success(csv_path):
    """Per-episode training success (0/1) and intervention rate, read back from the log."""
    import csv

    if not csv_path.is_file():
        return []
    with open(csv_path, newline='') as f:
        return [(int(r['episode']), r['success'] == 'True', float(r['intervention_rate']))
                for r in csv.DictReader(f)]
