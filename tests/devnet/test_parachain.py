"""The devnet's relay chain and parachain: heads land in Paras::Heads, light clients agree."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect

from pinkpipe.chain import keys
from pinkpipe.chain.header import Header
from pinkpipe.chain.parachain import PARACHAIN_ID_KEY, decode_head_data, decode_para_id
from pinkpipe.devnet.config import DevnetConfig, DevnetError, dev_account
from pinkpipe.devnet.faults import FaultError, Faults
from pinkpipe.devnet.parachain import DEFAULT_PARA_ID, ParachainDevnet, ParachainFaults
from pinkpipe.devnet.rpc import DevnetServer
from pinkpipe.validator.errors import BadProof, LightClientError
from pinkpipe.validator.light_client import LightClient
from pinkpipe.validator.parachain import (
    HeadForked,
    HeadWentBack,
    ParachainState,
    RelayBlock,
    UnlinkedParaHeader,
    anchored_at_genesis,
    import_para_batch,
)
from pinkpipe.validator.storage import verify_storage_proof
from tests.devnet.test_chain import all_pairs, light_client_batches
from tests.devnet.test_rpc import Rpc, header_from_json, unhex

MESSAGE = b"\x00\x0cfoo\x10dest\x08hi"


def make(**faults: int) -> ParachainDevnet:
    relay = DevnetConfig(
        chain_name="pinkpipe relay",
        justification_period=4,
        set_period=10,
        faults=ParachainFaults(**faults),
    )
    return ParachainDevnet(relay, DevnetConfig(chain_name="pinkpipe para"))


def served_headers(pair: ParachainDevnet, first: int, last: int) -> list[Header]:
    """Parachain headers first..last as its node serves them (withheld ones missing)."""
    headers = (pair.para.header(pair.para.block_hash(n) or b"") for n in range(first, last + 1))
    return [h for h in headers if h is not None]


def follow(pair: ParachainDevnet) -> tuple[ParachainState, list[bytes]]:
    """The relay light client from genesis, then parachain finality at every finalized
    relay block, as the pipeline's validator does; returns the final state and the hashes
    of the parachain blocks it finalized, in order."""
    relay = pair.relay
    client = LightClient.from_genesis_storage(
        all_pairs(relay, relay.genesis_hash), genesis_hash=relay.genesis_hash
    )
    state = anchored_at_genesis(pair.para_id, pair.para.genesis_hash)
    finalized: list[bytes] = []
    for headers, justification in light_client_batches(relay):
        for block in client.import_batch(headers, justification).finalized:
            relay_block = RelayBlock.finalized(block)
            proof = pair.heads_proof(block.hash)
            head = decode_head_data(
                verify_storage_proof(block.state_root, proof, [pair.heads_key])[pair.heads_key]
                or b""
            )
            para_headers = served_headers(pair, state.finalized.number + 1, head.number)
            result = import_para_batch(state, relay_block, proof, para_headers)
            state = result.state
            finalized.extend(h for _, h in result.finalized)
    return state, finalized


def test_same_configuration_gives_identical_chains() -> None:
    first, second = make(), make()
    first.produce(12)
    second.produce(12)
    for n in range(13):
        assert first.relay.block_hash(n) == second.relay.block_hash(n)
    assert first.para.best_hash == second.para.best_hash
    assert first.para.genesis_hash != first.relay.genesis_hash


def test_heads_land_one_or_two_relay_blocks_after_the_parachain_block() -> None:
    pair = make()
    pair.produce(20)
    assert pair.head_number_at(0) is None and pair.head_number_at(1) == 0
    for relay_number in range(1, 21):
        at = pair.relay.block_hash(relay_number) or b""
        value = pair.relay.storage(pair.heads_key, at)
        held = pair.head_number_at(relay_number)
        assert held is not None and value is not None
        assert decode_head_data(value) == pair.para.block(held).header
    # Parachain block P is built at relay block 2P+1 and its head included 2 relay blocks
    # later for odd P, 1 for even P.
    assert [pair.head_number_at(r) for r in range(1, 13)] == [0, 0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 4]
    assert pair.para.best_number == 9 and pair.para.finalized_number == 8
    assert pair.para.finalized_hash == pair.para.block_hash(8)


def test_the_parachain_carries_phala_storage_and_its_para_id_but_no_grandpa() -> None:
    pair = make()
    pair.para.include(b"\x08\x01\x02", [MESSAGE], dev_account("Alice"))
    pair.produce(4)
    para = pair.para
    assert decode_para_id(para.storage(PARACHAIN_ID_KEY) or b"") == DEFAULT_PARA_ID
    assert para.storage(keys.PHALA_MQ_OUTBOUND_MESSAGES, para.block_hash(1)) == b"\x04" + MESSAGE
    assert para.account_info(dev_account("Alice")).nonce == 1
    assert para.justification(para.best_hash) is None
    assert para.justified_numbers() == [] and para.prove_finality(1) is None
    assert pair.relay.justification(pair.relay.block_hash(4) or b"") is not None


def test_the_pipeline_core_finalizes_every_parachain_block_once_across_rotations() -> None:
    pair = make()
    pair.produce(60)
    state, finalized = follow(pair)
    held = pair.head_number_at(60)
    assert held == state.finalized.number == 28
    assert finalized == [pair.para.block_hash(n) for n in range(1, held + 1)]
    assert pair.relay.schedule.set_id(60) == 5  # five authority-set rotations crossed


def _refusal(pair: ParachainDevnet) -> LightClientError:
    pair.produce(40)
    with pytest.raises(LightClientError) as e:
        follow(pair)
    return e.value


def test_a_wrong_head_is_refused_at_its_parachain_block() -> None:
    error = _refusal(make(wrong_head_at=17))
    assert isinstance(error, HeadForked)
    assert error.number == make_and_hold(17)


def test_a_head_that_skips_back_is_refused() -> None:
    error = _refusal(make(head_skips_back_at=17))
    assert isinstance(error, HeadWentBack)
    assert error.number == make_and_hold(16) - 1


def test_a_withheld_parachain_header_stops_finality_after_it() -> None:
    error = _refusal(make(withheld_head_at=6))
    assert isinstance(error, UnlinkedParaHeader)
    assert error.number == 6 and "headers end at #5" in str(error)


def make_and_hold(relay_number: int) -> int:
    """The parachain block a fault-free pair's relay block holds."""
    pair = make()
    pair.produce(relay_number)
    held = pair.head_number_at(relay_number)
    assert held is not None
    return held


def test_fault_switches_are_named_and_validated() -> None:
    faults = ParachainFaults()
    for name, block in (("wrong_head", 5), ("withheld_head", 3), ("bad_body", 2)):
        faults.set(name, block)
    assert faults.active() == {"bad_body": 2, "wrong_head": 5, "withheld_head": 3}
    with pytest.raises(FaultError, match="unknown fault"):
        ParachainFaults().set("late_head", 4)
    with pytest.raises(DevnetError, match="inclusion lags"):
        ParachainDevnet(DevnetConfig(), DevnetConfig(), inclusion_lags=(0,))
    with pytest.raises(DevnetError, match="para_period"):
        ParachainDevnet(DevnetConfig(), DevnetConfig(), para_period=0)


async def test_both_chains_serve_over_the_existing_rpc_server() -> None:
    """Two unchanged `DevnetServer`s serve the pair; a client follows the parachain through
    them: relay header and `Paras::Heads` proof, then the parachain headers it proves."""
    pair = make(withheld_head_at=7)
    async with DevnetServer(pair.relay) as relay_server, DevnetServer(pair.para) as para_server:
        pair.produce(16)
        async with connect(relay_server.url) as relay_ws, connect(para_server.url) as para_ws:
            relay_rpc, para_rpc = Rpc(relay_ws), Rpc(para_ws)
            relay_hash = await relay_rpc("chain_getBlockHash", 16)
            relay_header = header_from_json(await relay_rpc("chain_getHeader", relay_hash))
            heads_key = "0x" + pair.heads_key.hex()
            proof = await relay_rpc("state_getReadProof", [heads_key], relay_hash)
            para_final = await para_rpc("chain_getFinalizedHead")
            final_number = header_from_json(await para_rpc("chain_getHeader", para_final)).number
            headers = []
            for n in range(1, final_number + 1):
                para_hash = await para_rpc("chain_getBlockHash", n)
                headers.append(header_from_json(await para_rpc("chain_getHeader", para_hash)))
            withheld = await para_rpc("chain_getHeader", await para_rpc("chain_getBlockHash", 7))
    relay = RelayBlock(16, unhex(relay_hash), relay_header.state_root)
    state = anchored_at_genesis(pair.para_id, pair.para.genesis_hash)
    result = import_para_batch(state, relay, [unhex(n) for n in proof["proof"]], headers)
    assert result.state.finalized.number == pair.head_number_at(16) == 6
    assert unhex(para_final) == result.state.finalized.hash
    assert withheld is None


def test_the_parachains_own_data_faults_hit_its_phala_key_proofs() -> None:
    relay = DevnetConfig(chain_name="pinkpipe relay", justification_period=4)
    para = DevnetConfig(chain_name="pinkpipe para", faults=Faults(wrong_state_root_at=3))
    pair = ParachainDevnet(relay, para)
    pair.produce(12)
    wanted = [keys.TIMESTAMP_NOW]
    for number, proves in ((2, True), (3, False)):
        block_hash = pair.para.block_hash(number) or b""
        header = pair.para.block(number).header
        proof = pair.para.read_proof(wanted, block_hash)
        if proves:
            assert verify_storage_proof(header.state_root, proof, wanted)
        else:
            with pytest.raises(BadProof, match=f"block #{number}"):
                verify_storage_proof(header.state_root, proof, wanted, number=number)


@pytest.mark.parametrize("chain", ["relay", "para"])
def test_blocks_produced_around_the_pair_are_refused(chain: str) -> None:
    pair = make()
    pair.produce(3)
    getattr(pair, chain).produce_block()
    with pytest.raises(DevnetError, match=r"produced outside ParachainDevnet\.step"):
        pair.step()
