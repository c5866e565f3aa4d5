// The Wechaty project's own PuppetMock behind its own PuppetServer (TLS off, as python-wechaty needs),
// driven line by line: JSON commands on stdin, JSON events on stdout. Used by test_wechaty_contract.py.
import readline from 'node:readline'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const port = process.argv[2]
const token = process.argv[3] || 'insecure_contract'
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })
const people = {}
const contact = (id, name) => (people[id] = mocker.createContact({ id, name }))
const bot = contact('bot', '小助手')
contact('owner', '群主')
contact('alice', 'Alice')
// the mock treats conversation ids with an "@" as rooms
const room = mocker.createRoom({
  id: 'contract@chatroom', topic: '契约测试群', ownerId: 'owner', memberIdList: ['bot', 'owner', 'alice'],
})

// the mock's send and roomDel do nothing observable: record the calls
for (const name of ['messageSendText', 'messageSendFile', 'roomDel']) {
  const original = puppet[name].bind(puppet)
  puppet[name] = async (...args) => {
    out({ event: name, args: args.map(a => (typeof a === 'object' && a !== null ? String(a) : a)) })
    return original(...args)
  }
}

// python-wechaty calls Stop then Start on connect, and Stop logs the mock out; a real puppet restores its
// session from its memory card on start, so log the mock in again after every start.
const start = puppet.start.bind(puppet)
puppet.start = async () => {
  await start()
  if (!puppet.isLoggedIn) mocker.login(bot)
}

const server = new PuppetServer({ endpoint: `127.0.0.1:${port}`, puppet, token, tls: { disable: true } })
await server.start()
await puppet.start()
out({ event: 'ready', port })

for await (const line of readline.createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line)
  if (cmd.cmd === 'say') {
    people[cmd.from].say(cmd.text, (cmd.mentions || []).map(id => people[id])).to(room)
  } else if (cmd.cmd === 'join') {
    room.add(contact(cmd.id, cmd.name)).by(people.owner)
  } else if (cmd.cmd === 'quit') {
    break
  }
  out({ event: 'done', cmd: cmd.cmd })
}
await server.stop()
await puppet.stop()
process.exit(0)
