"""Real recorded relay-chain data for parachain finality: a Polkadot `Paras::Heads` read proof.

Source (data only, hex copied): repository KILTprotocol/kilt-node, file
`crates/kilt-dip-primitives/src/state_proofs/mod.rs` at commit
98f53f4a044815ead61b8650aba20c8ef37b9836, test
`verify_storage_value_proof_polkadot_parahead_proof_for_spiritnet`: the answer of Polkadot's
`state_getReadProof([Paras::Heads(2086)], 0x18e90e9a…f58e39)` (relay block #16,363,919) and that
block's state root. Para 2086 is KILT Spiritnet; the proven HeadData holds Spiritnet header
#4,183,228, whose hash is below (computed here, and it links to the parent hash it names).
The relay header itself is not in the source: only its hash, number and state root.
"""

from __future__ import annotations

POLKADOT_RELAY_NUMBER = 16_363_919
POLKADOT_RELAY_HASH = bytes.fromhex(
    "18e90e9aa8e3b063f60386ba1b0415111798e72d01de58b1438d620d42f58e39"
)
POLKADOT_STATE_ROOT = bytes.fromhex(
    "81b75d95075d16005ee0a987a3f061d3011ada919b261e9b02961b9b3725f3fd"
)
SPIRITNET_PARA_ID = 2086
SPIRITNET_HEADS_PROOF = [
    bytes.fromhex(
        "570c0cfd6c23b92a7826080000f102e90265541097fb02782e14f43074f0b00e44ae8e9fe426982323ef1d32"
        "9739740d37f252ff006d1156941db1bccd58ce3a1cac4f40cad91f692d94e98f501dd70081a129b69a3e2ef7"
        "e1ff84ba3d86dab4e95f2c87f6b1055ebd48519c185360eae58f05d1ea08066175726120dcdc630800000000"
        "0561757261010170ccfaf3756d1a8dd8ae5c89094199d6d32e5dd9f0920f6fe30f986815b5e701974ea0e0e0"
        "a901401f2c72e3dd8dbdf4aa55d59bf3e7021856cdb8038419eb8c"
    ),
    bytes.fromhex(
        "80046480186b1513c5112466ada33da3c65558979906ca9fb82510b62f6ea01f550a4807808bc90ded5636f3"
        "1c8395a315b5f27a1a25a2ceebd36921a518669ce7e52f80e680993c5e952e6e4f72f295ba04951ace9029b2"
        "3e9a87887b41895c16f77bec42ee80b798b224c5ee3d668519e75ca98504116f645fb969a5e2653a298b0181"
        "f9a694"
    ),
    bytes.fromhex(
        "80ffff806ecd86e87715a007ee9b216d8a99a604773014260d51f6552b6fbd7c21786d9c80e23ef51809d6c8"
        "0c01a6e264ff0d298cce01c1addfdbb0789597b9a6b3f3e4fd80c9c5f0f29d777e2cebcdbd06ddf1c2cfa8ee"
        "83524b37ace99d8b7a3aeff039b380da013185503cfefa6c9cc88751993f1f2bf4b8fa4918e876f499fb9405"
        "e3206c803a89668f636552a0fb93619913dcc46cf3e087363d532b76a345155a44a46b5180c2e7fc654720b7"
        "dcc0316ae1591fde4beb8b853a343b7e5e3ee564d2692c2ee280840f9c4ae7c16ae948828bf50faf06226440"
        "2e6134d2d6144a5e3ecb0a1e1d9c80f93c2be1ef51fb2032445cc7fbc2023b9e3b8cf8c0d832b464ae48a020"
        "bfaa8c8010c63537c9bf58d50c8c0e13c154fd88b2f683e13701901bdc64565aa9b756d580f0b60eaf17fb68"
        "0827e8a8938c717ac943b85ff373c0fc911e06c34a3a30327280ccb29f1efa59fd7c80a730cb88789a5a256b"
        "01fee7e83ac9a3c90da330adc7a480c8e57c547edb33d4b712f017f09d2de2e055f18815669c83eef2f7f3e5"
        "dcafae80b7b7e7ffc91a7dd4c4902f7f15cd7598d1258a75433ea953565661d114e2dcca80ebc3a2df819c7c"
        "2fd1a33eb1d484beaf7b71114d6a6db240d8b07dc10bfdc49b80a71f21aa3fa5d7475bf134d50f25e2515c79"
        "7d0a4c2e93998888150c1f969ab8801e32613f54e70c95e9b16a14f5797522ef5e2ef7867868ff663e33e888"
        "0994ed"
    ),
    bytes.fromhex(
        "9e710b30bd2eab0352ddcc26417aa1945fd380d49ebc7ca5c1b751c2badb5e5a326d3ba9e331d8b7c6cf279e"
        "d7fd71a8882b6c8038088652f73dc8a22336d10f492f0ef8836beaba0ccfeb0f8fabdc9df1d17e2d807f8840"
        "2cbbed7fa3307e07044200b572d5e8e12913b41e1923dcb2c0799bc2be804d57e9a8e4934fab698a9db50682"
        "052ee9459c666a075d1bfc471da8e5da14da80b9aee043e378f8313e68a6030679ccf3880fa1e7ab19b6244b"
        "5c262b7a152f004c5f03c716fb8fff3de61a883bb76adb34a2040080f282bc12648ffb197ffc257edc7ff3a3"
        "fdda452daa51091ccbd2dfb91d8aa9518008a0c609ab4888f02c2545c002153297c2641c5a7b4f3d8e25c634"
        "e721f80bea80b6617c764df278313c426c46961ccde8ee7a03f9007b74bc8bc6c49d1583cf7d8077b493d45e"
        "b153353026cc330307e0753ac41a5cb8e843ceb1efdc46655f33a0808bdaa43fc5dc0e928e2da0ce8ed02096"
        "b0b74c61feaba2546980ed9c6174f71d"
    ),
    bytes.fromhex(
        "9f0b3c252fcb29d88eff4f3de5de4476c3ffbf8013c601cc93de3437f9d415bd52c48d794b341f218b9d0020"
        "a4b646746c24d0ca80348b8e2c39c479a146933297f62b7051df82e92e1bca761432c3e6f64c74033f802201"
        "31e7cd7a08b97f8aa06225f7aefbbca8118fb436c07689c552ed3f577145806d974dd9e4db5e407e29f84c41"
        "21ccc58f9c6adc3933afc1bcaef52defe77de5801e9e1a21db053de56365fdee57998488ddae7d664c0430da"
        "90469dde17936c1f80c5c11751bbfc99a1ad805c58a65b9704e0bad58e694023e9cc57ce6ef84cdb0b8038f6"
        "c242700eaea04ffad5c25ca9a9b1cc2af7303655a32eb59e84b6bb927cd3802575469e76e104b0db8b18dbc7"
        "62b997a78aa666432a44c4b955ced044a4691f80a81408b856272feeec08845af515e27d033efd3ff8b46de6"
        "bc706c38e600086a809ee78332c2a38a3918070942421e651e0b9a43e4b8b2c92e87a2552cede73e8380c9d7"
        "9f411f742cad0c6f2b070aa08703a04cb7db840c3821a6762837dd8d00e9807dcfbc7f2fcc9415e2cb40eef7"
        "f718758d76193f325b3f8b7180e3e5e7d6b81e8036252cae6d24a531a151ce1ee223a07bf71cf82a7fdf4909"
        "0e4ca345d27d68ca80e3f08ef11671f8f1defa66fa2af71e1a871430e9352df9b3f1d427b5a5dabfb280b51d"
        "28c9b99030d050fc1578cd23b5506e769b86c8f4ccc6aded4b8d7c1a73b7"
    ),
]
SPIRITNET_HEAD_NUMBER = 4_183_228
SPIRITNET_HEAD_HASH = bytes.fromhex(
    "ed99087639b9003149d7745dcdb4c90074b305069d2f27ee47b00b7d2161426a"
)
SPIRITNET_HEAD_PARENT = bytes.fromhex(
    "65541097fb02782e14f43074f0b00e44ae8e9fe426982323ef1d329739740d37"
)
SPIRITNET_HEAD_STATE_ROOT = bytes.fromhex(
    "6d1156941db1bccd58ce3a1cac4f40cad91f692d94e98f501dd70081a129b69a"
)
