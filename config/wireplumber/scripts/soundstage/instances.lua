-- Soundstage for WirePlumber 0.5: plug in a speaker, get Soundstage.
--
-- When an Audio/Sink that a rule in `soundstage.rules` describes appears, this loads libpipewire-module-soundstage
-- in WirePlumber's process with the rule's profile, playing into that sink; pins the sink's own volume; optionally
-- hides it from applications. The Soundstage sink becomes the default through its priority.session (1400 unless
-- the rule says otherwise; WirePlumber gives ALSA sinks 1009 at most, 1500 only in a pro-audio profile): the
-- user's own choice of default, stored by WirePlumber, is
-- never overwritten, and the raw array itself is never a candidate (protect.lua). When the sink goes away its
-- Soundstage is unloaded (the default falls back to the next sink and WirePlumber moves the streams there).
-- Devices no rule matches are never touched. The rules are read by lib/soundstage-rules.lua; card profiles are
-- chosen by card-profile.lua.

log = Log.open_topic ("s-soundstage")
rules = require ("soundstage-rules")

-- raw sink node id -> { module, sink name, bound id, rule }
instances = {}

clients_om = ObjectManager { Interest { type = "client" } }

-- Hidden sinks: bound id -> the id of the client that owns the node (never hidden from its owner: PipeWire
-- 1.4.2 aborts when a client loses sight of a node it created and then disconnects).
hidden = {}

function hide_from (client, bound_id, owner)
  if client.properties["wireplumber.daemon"] or client["bound-id"] == owner then
    return
  end
  client:update_permissions { [bound_id] = "-" }
end

function hide_from_clients (bound_id, owner)
  hidden[bound_id] = owner
  for client in clients_om:iterate () do
    hide_from (client, bound_id, owner)
  end
end

clients_om:connect ("object-added", function (_, client)
  for bound_id, owner in pairs (hidden) do
    hide_from (client, bound_id, owner)
  end
end)

function pin_volume (node, level)
  local channels = tonumber (node.properties["audio.channels"]) or 2
  local volumes = { "Spa:Float" }
  for _ = 1, channels do table.insert (volumes, level) end
  node:set_param ("Props", Pod.Object {
    "Spa:Pod:Object:Param:Props", "Props",
    mute = false,
    channelVolumes = Pod.Array (volumes),
  })
end

function start_soundstage (node, rule)
  local props = node.properties
  local raw = props["node.name"]
  local desc = props["node.description"] or raw
  local sink_name = "soundstage.sink." .. raw
  local args = Json.Object {
    ["profile"] = rule.props["soundstage.profile"],
    ["target.object"] = raw,
    ["capture.props"] = Json.Object {
      ["node.name"] = sink_name,
      ["node.description"] = "Soundstage: " .. desc,
      ["priority.session"] = rule.props["soundstage.priority"] or 1400,
      ["soundstage.device"] = raw,
      ["soundstage.model"] = rule.name,
    },
    ["playback.props"] = Json.Object {
      ["node.name"] = "soundstage.output." .. raw,
      ["node.dont-reconnect"] = true,
      ["node.dont-fallback"] = true,
      ["soundstage.device"] = raw,
    },
  }
  log:notice (string.format ("%s matches %s: starting Soundstage with profile '%s'", raw, rule.where,
      rule.props["soundstage.profile"]))
  local module = LocalModule ("libpipewire-module-soundstage", args:to_string (), {})
  if module == nil then
    log:warning (string.format ("%s: Soundstage did not start for %s with profile '%s' (the module's error is "
        .. "logged above: a profile name that does not exist, or a broken profile); %s stays a plain sink",
        rule.where, raw, rule.props["soundstage.profile"], raw))
    return
  end
  local instance = { module = module, sink = sink_name, bound = node["bound-id"], rule = rule }
  instances[node.id] = instance
  if rule.props["soundstage.device-volume"] ~= nil then
    pin_volume (node, rule.props["soundstage.device-volume"])
  end
  if rule.props["soundstage.hide-device"] then
    -- a node made by the daemon itself (context.objects) or left behind by its client (object.linger) has no
    -- client.id: hide it from every client (-1 owns nothing)
    hide_from_clients (node["bound-id"], tonumber (props["client.id"]) or -1)
  end
  log:notice (string.format ("%s: %s (priority.session %d) is the default sink unless you chose another one",
      raw, sink_name, rule.props["soundstage.priority"] or 1400))
end

function is_ours (props)
  return props["soundstage.device"] ~= nil
      or (props["node.link-group"] or ""):find ("^soundstage") ~= nil
      or (props["node.name"] or ""):find ("^soundstage%.") ~= nil
end

-- Sinks are watched with an object manager rather than node-added hooks: it also reports the sinks that
-- existed before this script loaded (WirePlumber loads it after the monitors have announced theirs).
sinks_om = ObjectManager {
  Interest { type = "node", Constraint { "media.class", "=", "Audio/Sink" } }
}

sinks_om:connect ("object-added", function (_, node)
  if is_ours (node.properties) or instances[node.id] then
    return
  end
  local rule = rules.find (node.properties)
  if rule then
    start_soundstage (node, rule)
  end
end)

sinks_om:connect ("object-removed", function (_, node)
  local instance = instances[node.id]
  if instance == nil then
    return
  end
  log:notice (string.format ("%s went away: stopping %s", node.properties["node.name"] or "?", instance.sink))
  instances[node.id] = nil
  hidden[instance.bound] = nil
  instance.module = nil   -- WirePlumber collects garbage after every callback: the module unloads now
end)

clients_om:activate ()
sinks_om:activate ()
