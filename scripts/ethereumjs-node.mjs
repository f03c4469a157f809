#!/usr/bin/env node
// The EthereumJS client (npm @ethereumjs/client) with a consortium profile for a small Clique network.
//
// Usage: node scripts/ethereumjs-node.mjs <the client's own options>
//
// The client runs unchanged (its own CLI, consensus rules, block validation and sealing); this launcher
// adds what a small permissioned network needs and the client's Clique mode lacks (it is "beta" upstream):
//
// 1. Identity: the node key is read from <dataDir>/nodekey (hex) when present, so every node's enode is
//    known before any node starts (upstream draws a new key at each start).
// 2. Static peers: every enode in <dataDir>/static-nodes.json is dialled again about each second (jittered)
//    while it is not connected (upstream dials its bootnodes once, so a peer that restarts is never called
//    back).
// 3. Fork choice across peers: a NewBlock announcement carries the sender's total difficulty; upstream
//    keeps each peer's difficulty from the handshake only, so a node on a lighter Clique fork never syncs
//    to the heavier one and the network can stall. Here every block is announced in full to every peer,
//    the peer's difficulty and head are updated from it, and the block fetcher asks the heaviest idle peer.
// 4. Out-of-turn grace: a signer that is not in turn waits two periods more before sealing (EIP-225 lets
//    it seal after a random wiggle of up to 500 ms per signer; on a loaded machine that races the in-turn
//    block and forks the chain). Out-of-turn blocks are still sealed when the in-turn signer is down.
//
// 5. Gas estimation: eth_estimateGas runs the call in a header it builds without extraData, which the
//    client's own Clique format check refuses ("extraData must be 97 bytes"); an empty extraData (an
//    unsealed template) skips that format check. A block from a peer still needs a valid Clique seal,
//    recovered from its extraData, to be accepted.
// 6. Contract execution: the client never gives its EVM the `cliqueSigner` option, without which the
//    EVM refuses to run any contract code on a Clique chain ("Must include cliqueSigner function"); it
//    is given the block package's own `cliqueSigner` (the sealer recovered from the header).
// 7. Fees to the sealer: a Clique transaction's tip is paid to the sealer recovered from the block's seal;
//    while a block is being built it has no seal yet, so the sealer paid itself nothing and every other
//    node computed another state root for any block with a transaction ("invalid block stateRoot"). Each
//    transaction is now run in a header sealed by the sealer, as every importing node runs it.
// 8. Funding: the standard eth_accounts and eth_sendTransaction for the account unlocked with --unlock
//    (the sealer, funded in the genesis), as geth offers them for an unlocked account, so that a member
//    node can give the accounts it creates their gas money. One transaction at a time, nonce from the
//    pending pool.
// 9. Pending nonce: upstream adds every pooled transaction of the sender to its account nonce, including
//    ones already mined that the pool still holds, and so hands out a nonce past a gap that is never
//    mined; here it is the account nonce followed by the run of consecutive pooled nonces.
// 10. Receipts: a sealer indexes a transaction's receipt when it builds a block, before the block is
//     stored, and keeps the index when the block loses a fork; upstream then answers the receipt query
//     with an internal error ("value ... not found in DB") instead of "not mined (here)" (null).
// 11. Recent signers after a reorg: on a reorg upstream drops its record of recent sealers above the common
//     ancestor plus one, then records the new branch from the ancestor plus one: the losing branch's
//     sealer of that block stays listed, and the sealers wrongly believe they "signed too recently"
//     until the chain stalls. The record is now dropped above the common ancestor.
// 12. Sealing starts with a quorum: a sealer starts sealing once it is connected to half of its static
//     peers (with itself, a majority of the members), not the moment its process is up; otherwise nodes
//     started a few seconds apart each seal their own first blocks and spend the start resolving forks.
// 13. Sealing on an executed parent: the miner may try to build on a head whose state the client has not
//     computed yet (just imported, execution still running); upstream the error is not caught and the
//     whole node exits ("State trie does not contain state root"). The miner now waits for the state.
// 14. "latest" is the latest executed block: upstream answers eth_blockNumber and reads state at "latest"
//     from the newest imported block, whose state may not be computed yet ("State trie does not contain
//     state root" to an eth_call right after an import). Here the head a client sees is one whose
//     state, receipts and logs are all there.
// 15. Shallow resync: a node that fell behind refetches from 16 blocks below its head (upstream: 100, which
//     on a young chain means from block 1 on every sync round and keeps a loaded node behind).
// 16. Equal total difficulty: upstream takes a block as the new head only when its branch is strictly
//     heavier, so two nodes on two branches of equal weight each keep their own for ever; with four
//     sealers split two and two, each side's next sealer is on the other side and the chain stalls.
//     Here a tie goes to the branch with the lower head number (geth's rule) and, at the same number,
//     to the lower block hash, so every node settles on the same branch whatever order blocks came in.
//
// 17. Recent signers on the block's own branch: upstream checks "signed too recently" against the
//     sealers of the node's canonical chain, also for a block of another branch whose parent is not the
//     canonical head; a heavier branch a node must switch to was then refused, and the node stayed on the
//     lighter one for good. The check now reads the sealers of the block's own ancestors.
// 18. Branch check: every second, a node whose peer announced a better head (by the fork choice of 3 and
//     16) that it does not hold asks that peer for the head's ancestors by hash, back to a block it has,
//     and imports them (upstream fetches by number from its own canonical height, and so never fetches a
//     competing block at a height it already has). Announcements carry the block's own total difficulty
//     (upstream sends the sender's, before the block is counted), and a node announces its new head when
//     a reorg changes it, so each peer's record of the others' heads stays current.
// 19. No sealing behind a better head: a sealer that a peer told, less than three periods ago, of a head
//     that beats its own (or, in the first seconds after a start, whose handshake did) waits for that
//     head (18) instead of sealing on its own; upstream a node that restarts behind its peers seals on
//     its old head at once and forks the chain.
//
// The client package is taken from COO_EJS_CLIENT (its directory) when set, else from the project's
// node_modules.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = process.env.COO_EJS_CLIENT ??
  fileURLToPath(new URL('../node_modules/@ethereumjs/client/', import.meta.url))
const load = (path) => import(pathToFileURL(join(root, 'dist/esm', path)).href)

const { Config } = await load('src/config.js')
const { FullEthereumService } = await load('src/service/fullethereumservice.js')
const { FullSynchronizer } = await load('src/sync/fullsync.js')
const { BlockFetcher } = await load('src/sync/fetcher/blockfetcher.js')
const { RlpxServer } = await load('src/net/server/rlpxserver.js')
const { Miner } = await load('src/miner/miner.js')
const sibling = (name) => [join(root, 'node_modules/@ethereumjs', name), join(root, '..', name)].find(existsSync)
const loadFrom = (name, path) => import(pathToFileURL(join(sibling(name), 'dist/esm', path)).href)
const { BlockHeader } = await loadFrom('block', 'header/header.js')
const { cliqueSigner, generateCliqueBlockExtraData } = await loadFrom('block', 'consensus/clique.js')
const { createBlockHeader } = await loadFrom('block', 'header/constructors.js')
const { EVM } = await loadFrom('evm', 'evm.js')
const { BlockBuilder } = await loadFrom('vm', 'buildBlock.js')
const { CliqueConsensus } = await loadFrom('blockchain', 'consensus/clique.js')
const { Blockchain } = await loadFrom('blockchain', 'blockchain.js')
const { createFeeMarket1559Tx } = await loadFrom('tx', '1559/constructors.js')
const { Eth } = await load('src/rpc/modules/eth.js')

const REDIAL_MS = 1000
const hex = (bytes) => Buffer.from(bytes).toString('hex')
const bigintOf = (bytes) => (bytes.length > 0 ? BigInt(`0x${hex(bytes)}`) : 0n)
let dataDir

// 15. shallow resync (read when the client's configuration is built)
Config.SAFE_REORG_DISTANCE = 16

// 1. identity
const getClientKey = Config.getClientKey
Config.getClientKey = async function (datadir, common) {
  dataDir = datadir
  const file = join(datadir, 'nodekey')
  if (existsSync(file)) return Uint8Array.from(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'))
  return getClientKey.call(this, datadir, common)
}

// 2. static peers
function staticPeers () {
  const file = dataDir === undefined ? undefined : join(dataDir, 'static-nodes.json')
  if (file === undefined || !existsSync(file)) return []
  return JSON.parse(readFileSync(file, 'utf8')).map((url) => {
    const { username, hostname, port } = new URL(url)
    return { id: Uint8Array.from(Buffer.from(username, 'hex')), address: hostname, tcpPort: Number(port) }
  })
}
const initRlpx = RlpxServer.prototype.initRlpx
RlpxServer.prototype.initRlpx = async function () {
  await initRlpx.call(this)
  const peers = staticPeers()
  const redial = () => {
    if (this.started && this.rlpx !== undefined && this.rlpx !== null) {
      for (const peer of peers) {
        if (!this.rlpx._peers.has(hex(peer.id))) this.rlpx.connect(peer).catch(() => {})
      }
    }
    // jittered: two nodes that dial each other on the same beat may each drop the other's connection
    setTimeout(redial, REDIAL_MS * (0.5 + Math.random())).unref()
  }
  setTimeout(redial, REDIAL_MS).unref()
}

// 3. fork choice across peers
// a block's total difficulty (given a number, the client answers 0 for a block it does not hold)
async function totalDifficultyOf (blockchain, block) {
  const { header } = block
  try {
    return await blockchain.getTotalDifficulty(block.hash())
  } catch {
    return (await blockchain.getTotalDifficulty(header.parentHash)) + header.difficulty
  }
}
FullSynchronizer.prototype.sendNewBlock = async function (block) {
  const td = await totalDifficultyOf(this.chain.blockchain, block).catch(() => undefined)
  if (td === undefined) return
  for (const peer of this.pool.peers) {
    if (!this.addToKnownByPeer(block.hash(), peer)) peer.eth?.send('NewBlock', [block, td])
  }
}
// the fork choice: heavier, then (16) at equal weight the lower number, then the lower hash
const betterHead = (a, b) => a.td > b.td || (a.td === b.td && a.number !== undefined &&
  (a.number < b.number || (a.number === b.number && hex(a.hash) < hex(b.hash))))
// this node's head, and a peer's as it last announced it (no number: known from the handshake only)
const ownHead = (chain) => {
  const latest = chain.blocks.latest
  return latest === null || latest === undefined
    ? undefined
    : { td: chain.blocks.td, number: latest.header.number, hash: latest.hash() }
}
const peerHead = (status) => ({ td: status.td, number: status.bestNumber, hash: status.bestHash })
const handleEth = FullEthereumService.prototype.handleEth
FullEthereumService.prototype.handleEth = async function (message, peer) {
  if (message.name === 'NewBlock' && peer.eth?.status !== undefined) {
    const [block, td] = message.data
    const status = peer.eth.status
    const announced = { td: bigintOf(td), number: block.header.number, hash: block.hash() }
    // a head known from the handshake only (no number) gives way to an announcement of equal weight
    const known = { ...peerHead(status), number: status.bestNumber ?? announced.number + 1n }
    if (betterHead(announced, known) || hex(announced.hash) === hex(status.bestHash ?? [])) {
      status.td = announced.td
      status.bestHash = announced.hash
      status.bestNumber = announced.number
      status.announcedAt = Date.now()
      peer.eth.updatedBestHeader = undefined
    }
  }
  return handleEth.call(this, message, peer)
}
const heaviestFirst = (a, b) => (a.eth.status.td < b.eth.status.td ? 1 : a.eth.status.td > b.eth.status.td ? -1 : 0)
BlockFetcher.prototype.peer = function () {
  const idle = this.pool.peers.filter((p) => p.idle && 'eth' in p && p.eth?.status !== undefined)
  idle.sort(heaviestFirst)
  return idle[0]
}

// 4. out-of-turn grace
const OUT_OF_TURN_GRACE_PERIODS = 2
const queueNextAssembly = Miner.prototype.queueNextAssembly
Miner.prototype.queueNextAssembly = async function (timeout) {
  await queueNextAssembly.call(this, timeout)
  if (!this.running || this._nextAssemblyTimeoutId === undefined) return
  const [signer] = this.config.accounts[0]
  const number = this.service.chain.blocks.latest.header.number + 1n
  if (await this.service.chain.blockchain.consensus.cliqueSignerInTurn(signer, number)) return
  clearTimeout(this._nextAssemblyTimeoutId)
  const signers = this.service.chain.blockchain.consensus.cliqueActiveSigners(number).length
  const delay = (timeout ?? this.period) + OUT_OF_TURN_GRACE_PERIODS * this.period + Math.random() * signers * 500
  this._nextAssemblyTimeoutId = setTimeout(this.assembleBlock.bind(this), delay)
}

// 5. gas estimation
const validateFormat = BlockHeader.prototype._consensusFormatValidation
BlockHeader.prototype._consensusFormatValidation = function () {
  if (this.extraData.length === 0 && this.common.consensusAlgorithm() === 'clique') return
  return validateFormat.call(this)
}

// 6. contract execution
Object.defineProperty(EVM.prototype, '_optsCached', {
  configurable: true,
  get () { return this._consortiumOpts },
  set (opts) {
    const clique = opts?.common?.consensusAlgorithm?.() === 'clique' && opts.cliqueSigner === undefined
    this._consortiumOpts = clique ? { ...opts, cliqueSigner } : opts
  },
})

// 7. fees to the sealer
const CLIQUE_EXTRA = 32 + 65
const addTransaction = BlockBuilder.prototype.addTransaction
BlockBuilder.prototype.addTransaction = async function (tx, opts) {
  const key = this.blockOpts.cliqueSigner
  if (key !== undefined) {
    const vanity = (this.headerData.extraData ?? new Uint8Array(0)).subarray(0, 32)
    const extraData = new Uint8Array(CLIQUE_EXTRA)
    extraData.set(vanity)
    const header = createBlockHeader({ ...this.headerData, gasUsed: this.gasUsed, extraData },
      { ...this.blockOpts, freeze: false })
    this.headerData.extraData = generateCliqueBlockExtraData(header, key)
  }
  return addTransaction.call(this, tx, opts)
}

// 8. funding
const GWEI = 10n ** 9n
let sending = Promise.resolve()
// the RPC manager rebinds each method's `this`, so each is handed out already bound to its module
const rpcMethod = (name, method) => Object.defineProperty(Eth.prototype, name, {
  configurable: true,
  get () { return method.bind(this) },
})
rpcMethod('accounts', async function () {
  return this.client.config.accounts.map(([address]) => address.toString())
})
rpcMethod('sendTransaction', function (params) {
  const turn = sending.then(() => sendFromUnlocked.call(this, params[0] ?? {}))
  sending = turn.catch(() => {})
  return turn
})
async function sendFromUnlocked (call) {
  const [address, key] = this.client.config.accounts[0] ?? []
  if (address === undefined || String(call.from ?? '').toLowerCase() !== address.toString().toLowerCase()) {
    throw { code: -32000, message: 'unknown account' }
  }
  const from = address.toString().toLowerCase()
  const nonce = await this.getTransactionCount([from, 'pending'])
  const base = (await this._chain.getCanonicalHeadHeader()).calcNextBaseFee()
  const tx = createFeeMarket1559Tx({
    chainId: this.client.config.chainCommon.chainId(),
    nonce,
    to: call.to,
    value: call.value ?? '0x0',
    data: call.data ?? call.input ?? '0x',
    gasLimit: call.gas ?? '0x5208',
    maxFeePerGas: 2n * base + GWEI,
    maxPriorityFeePerGas: GWEI,
  }, { common: this.client.config.chainCommon }).sign(key)
  return this.sendRawTransaction([`0x${hex(tx.serialize())}`])
}

// 14. "latest" is the latest executed block (before 9, which reads the "latest" nonce through it)
async function executedHead () {
  return (await this.service.chain.blockchain.getIteratorHead()).header.number
}
for (const [name, position] of [['call', 1], ['estimateGas', 1], ['getBalance', 1], ['getCode', 1],
  ['getStorageAt', 2], ['getProof', 2], ['getTransactionCount', 1], ['getBlockByNumber', 0]]) {
  const original = Eth.prototype[name]
  Eth.prototype[name] = async function (params) {
    if (params[position] !== undefined && params[position] !== 'latest') return original.call(this, params)
    const copy = [...params]
    copy[position] = `0x${(await executedHead.call(this)).toString(16)}`
    return original.call(this, copy)
  }
}
Eth.prototype.blockNumber = async function () {
  return `0x${(await executedHead.call(this)).toString(16)}`
}

// 9. pending nonce
const getTransactionCount = Eth.prototype.getTransactionCount
Eth.prototype.getTransactionCount = async function (params) {
  const [address, block] = params
  if (block !== 'pending') return getTransactionCount.call(this, params)
  let nonce = BigInt(await getTransactionCount.call(this, [address, 'latest']))
  const pooled = new Set((this.service.txPool.pool.get(address.slice(2).toLowerCase()) ?? []).map((o) => o.tx.nonce))
  while (pooled.has(nonce)) nonce += 1n
  return `0x${nonce.toString(16)}`
}

// 10. receipts
const getTransactionReceipt = Eth.prototype.getTransactionReceipt
Eth.prototype.getTransactionReceipt = async function (params) {
  try {
    return await getTransactionReceipt.call(this, params)
  } catch (error) {
    if (String(error?.message ?? error).includes('not found in DB')) return null
    throw error
  }
}

// 11. recent signers after a reorg (upstream is called with the common ancestor's number plus one)
const deleteSnapshots = CliqueConsensus.prototype._cliqueDeleteSnapshots
CliqueConsensus.prototype._cliqueDeleteSnapshots = function (aboveAncestor) {
  return deleteSnapshots.call(this, aboveAncestor - 1n)
}

// 12. sealing starts with a quorum
const startMiner = Miner.prototype.start
Miner.prototype.start = function () {
  const needed = Math.floor((staticPeers().length + 1) / 2)
  const ready = () => this.service.pool.peers.length >= needed
  if (ready()) return startMiner.call(this)
  const timer = setInterval(() => {
    if (ready()) {
      clearInterval(timer)
      startMiner.call(this)
    }
  }, 200)
  timer.unref()
  return true
}

// 13. sealing on an executed parent
const STATE_WAIT_MS = 250
const assembleBlock = Miner.prototype.assembleBlock
Miner.prototype.assembleBlock = async function () {
  const parent = this.service.chain.blocks.latest
  const ready = await this.execution.vm.stateManager.hasStateRoot(parent.header.stateRoot).catch(() => false)
  if (!ready || betterHeadAnnounced(this.service, 3 * this.period)) {
    if (this.running) this._nextAssemblyTimeoutId = setTimeout(this.assembleBlock.bind(this), STATE_WAIT_MS)
    return
  }
  try {
    return await assembleBlock.call(this)
  } catch (error) {
    this.assembling = false
    this.config.logger?.warn(`Miner: could not seal this round (${error?.message ?? error}); trying again`)
    if (this.running) this._nextAssemblyTimeoutId = setTimeout(this.assembleBlock.bind(this), STATE_WAIT_MS)
  }
}

// 19. no sealing behind a better head: a peer announced, less than three periods ago (or in its handshake,
// in the first seconds after a start), a head that beats this node's; it is being fetched (18)
const STARTED_AT = Date.now()
const HANDSHAKE_TRUST_MS = 20000
function betterHeadAnnounced (service, withinMs) {
  const ours = ownHead(service.chain)
  if (ours === undefined) return false
  const now = Date.now()
  return service.pool.peers.some((p) => {
    const status = p.eth?.status
    if (status?.bestHash === undefined) return false
    const fresh = status.announcedAt === undefined ? now - STARTED_AT < HANDSHAKE_TRUST_MS : now - status.announcedAt < withinMs
    return fresh && betterHead(peerHead(status), ours)
  })
}

// 16. equal total difficulty
const putBlockOrHeader = Blockchain.prototype._putBlockOrHeader
Blockchain.prototype._putBlockOrHeader = async function (item) {
  this._consortiumIncoming = item.header ?? item
  try {
    return await putBlockOrHeader.call(this, item)
  } finally {
    this._consortiumIncoming = undefined
  }
}
const getTotalDifficulty = Blockchain.prototype.getTotalDifficulty
Blockchain.prototype.getTotalDifficulty = async function (hash, number) {
  const td = await getTotalDifficulty.call(this, hash, number)
  const incoming = this._consortiumIncoming
  const head = this._headHeaderHash
  if (incoming === undefined || head === undefined || hex(hash) !== hex(head) || incoming.number === 0n) return td
  if (hex(incoming.parentHash) === hex(head)) return td // an extension of the head: heavier anyway
  const parentTd = await getTotalDifficulty.call(this, incoming.parentHash, incoming.number - 1n).catch(() => undefined)
  if (parentTd === undefined || parentTd + incoming.difficulty !== td) return td
  const headNumber = await this.dbManager.hashToNumber(head)
  const wins = incoming.number < headNumber || (incoming.number === headNumber && hex(incoming.hash()) < hex(head))
  return wins ? td - 1n : td // the head's weight as the comparison sees it: just below the tie it loses
}

// 17. recent signers on the block's own branch
const validateConsensus = CliqueConsensus.prototype.validateConsensus
CliqueConsensus.prototype.validateConsensus = async function (block) {
  const { header } = block
  const recent = await branchSigners(this, header).catch(() => undefined)
  this._consortiumRecent = recent === undefined ? undefined : { hash: hex(header.hash()), recent }
  try {
    return await validateConsensus.call(this, block)
  } finally {
    this._consortiumRecent = undefined
  }
}
async function branchSigners (consensus, header) {
  const signers = []
  let parent = header.parentHash
  let number = header.number - 1n
  for (let k = 1; k < consensus.cliqueSignerLimit(header.number) && number >= 1n; k++, number--) {
    const ancestor = (await consensus.blockchain.getBlock(parent)).header
    signers.push(cliqueSigner(ancestor))
    parent = ancestor.parentHash
  }
  return signers
}
const checkRecentlySigned = CliqueConsensus.prototype.cliqueCheckRecentlySigned
CliqueConsensus.prototype.cliqueCheckRecentlySigned = function (header) {
  const branch = this._consortiumRecent
  if (branch === undefined || branch.hash !== hex(header.hash())) return checkRecentlySigned.call(this, header)
  if (header.number <= 1n) return false
  const signer = cliqueSigner(header)
  return branch.recent.some((s) => s.equals(signer))
}

// 18. branch check
const BRANCH_CHECK_MS = 1000
const BRANCH_DEPTH = 64
const { Event } = await load('src/types.js')
const { createBlockFromBytesArray } = await loadFrom('block', 'block/constructors.js')
const openSync = FullSynchronizer.prototype.open
FullSynchronizer.prototype.open = async function () {
  const first = !this.opened
  await openSync.call(this)
  if (!first) return
  let announced
  this.config.events.on(Event.CHAIN_UPDATED, () => {
    const head = this.chain.blocks.latest
    if (head === null || head === undefined || hex(head.hash()) === announced) return
    announced = hex(head.hash())
    this.sendNewBlock(head).catch(() => {})
  })
  let checking = false
  const timer = setInterval(() => {
    if (checking || !this.opened) return
    checking = true
    adoptBetterBranch(this).catch((error) => {
      this.config.logger?.warn(`Branch check: ${error?.message ?? error}`)
    }).finally(() => { checking = false })
  }, BRANCH_CHECK_MS)
  timer.unref()
}
async function holds (blockchain, hash) {
  try {
    await blockchain.getBlock(hash)
    return true
  } catch {
    return false
  }
}
async function adoptBetterBranch (sync) {
  const ours = ownHead(sync.chain)
  if (ours === undefined) return
  const peers = sync.pool.peers.filter((p) => p.idle && p.eth?.status?.bestHash !== undefined &&
    betterHead(peerHead(p.eth.status), ours))
  peers.sort(heaviestFirst)
  const blockchain = sync.chain.blockchain
  for (const peer of peers) {
    if (await holds(blockchain, peer.eth.status.bestHash)) continue
    peer.idle = false
    try {
      const blocks = await branchOf(peer, blockchain)
      if (blocks.length === 0) continue
      await sync.chain.putBlocks(blocks)
      const head = sync.chain.blocks.latest
      sync.config.logger?.info(`Branch check: imported ${blocks.length} blocks of a better branch from ` +
        `${peer.id.slice(0, 8)}; head=${head.header.number} hash=0x${hex(head.hash()).slice(0, 8)}`)
      return
    } finally {
      peer.idle = true
    }
  }
}
// the peer's head and its ancestors down to the first block held here, oldest first (none: deeper fork)
async function branchOf (peer, blockchain) {
  const reply = await peer.eth.getBlockHeaders({ block: peer.eth.status.bestHash, max: BRANCH_DEPTH, reverse: true })
  const headers = Array.isArray(reply) ? reply[1] : []
  const missing = []
  for (const header of headers) {
    if (await holds(blockchain, header.hash())) break
    missing.push(header)
  }
  missing.reverse()
  if (missing.length === 0 || !(await holds(blockchain, missing[0].parentHash))) return []
  const bodies = await peer.eth.getBlockBodies({ hashes: missing.map((h) => h.hash()) })
  if (!Array.isArray(bodies) || !Array.isArray(bodies[1]) || bodies[1].length !== missing.length) return []
  return bodies[1].map(([txs, uncles, withdrawals], i) => createBlockFromBytesArray(
    withdrawals === undefined ? [missing[i].raw(), txs, uncles] : [missing[i].raw(), txs, uncles, withdrawals],
    { common: missing[i].common }))
}

await load('bin/cli.js')
