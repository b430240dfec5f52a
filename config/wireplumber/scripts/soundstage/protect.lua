-- Soundstage: a driver array is never a sink for applications, whoever runs Soundstage and whether it is running.
--
-- A driver array's channels are bare drivers (tweeters, midranges, a woofer). If Soundstage stops (a crash, the
-- service stopped, the module unloaded) the array would otherwise be an ordinary multichannel sink: the session
-- would make it the default and map stereo FL/FR onto its first two channels, full range into whatever drivers
-- those are. This script keeps every array out of that:
--   * it is never chosen as the default sink (taken out of the candidates before WirePlumber picks one);
--   * no stream is linked to it except Soundstage's own output and `soundstage measure` (a stream whose target is an array is sent to the
--     best other sink, or to none).
-- An array is a sink named by a Soundstage instance (its sink carries soundstage.device, in every install mode),
-- one listed in `soundstage.protect` (for a service that has not run yet on this machine), or one remembered from
-- an earlier run (WirePlumber's state file `soundstage-protect`; delete it to forget).

log = Log.open_topic ("s-soundstage")

state = State ("soundstage-protect")
arrays = {}          -- node.name -> true

do
  local saved = state:load ()
  for name, _ in pairs (saved) do
    arrays[name] = true
  end
  local listed = Conf.get_section_as_json ("soundstage.protect", Json.Array {})
  if listed:is_array () then
    for _, name in ipairs (listed:parse ()) do
      if type (name) == "string" then
        arrays[name] = true
      else
        log:warning ("soundstage.protect: expected node names (strings), got " .. tostring (name))
      end
    end
  else
    log:warning ("soundstage.protect: expected an array of node names")
  end
end

function protect (name, why)
  if name == nil or name == "" or arrays[name] then
    return
  end
  arrays[name] = true
  local saved = state:load ()
  saved[name] = "1"
  state:save (saved)
  log:notice (string.format ("%s is a driver array (%s): never a default or a target for applications", name,
      why))
end

-- Soundstage's own output, and `soundstage measure`'s sweeps (each driver in its own band, at a level that starts
-- low and rises only while the microphone's recording stays clean).
function is_soundstage_output (props)
  return props["soundstage.device"] ~= nil or (props["node.name"] or ""):find ("^soundstage%.output") ~= nil
      or props["soundstage.measure"] == "true"
end

-- Soundstage's sinks name their array (module argument target.object, or the profile's output.target).
sinks_om = ObjectManager {
  Interest { type = "node", Constraint { "media.class", "=", "Audio/Sink" } }
}
sinks_om:connect ("object-added", function (_, node)
  local device = node.properties["soundstage.device"]
  if device then
    protect (device, "Soundstage plays into it")
  end
end)
sinks_om:activate ()

-- Before any default-node hook looks: the candidates without the arrays.
SimpleEventHook {
  name = "default-nodes/soundstage-protect",
  before = { "default-nodes/find-best-default-node", "default-nodes/find-selected-default-node",
             "default-nodes/find-stored-default-node" },
  interests = {
    EventInterest {
      Constraint { "event.type", "=", "select-default-node" },
    },
  },
  execute = function (event)
    local available = event:get_data ("available-nodes")
    available = available and available:parse ()
    if not available then
      return
    end
    local kept = {}
    for _, props in ipairs (available) do
      if not arrays[props["node.name"]] then
        table.insert (kept, Json.Object (props))
      end
    end
    event:set_data ("available-nodes", Json.Array (kept))
  end
}:register ()

-- The best sink that is not an array, for a stream whose target was one.
function best_other_target (om, si_props)
  local direction = si_props["item.node.direction"] == "output" and "input" or "output"
  local best, best_priority = nil, -1
  for target in om:iterate {
    type = "SiLinkable",
    Constraint { "item.node.type", "=", "device" },
    Constraint { "item.node.direction", "=", direction },
    Constraint { "media.type", "=", si_props["media.type"] },
  } do
    local props = target.properties
    local priority = tonumber (props["priority.session"]) or 0
    if not arrays[props["node.name"]] and priority > best_priority then
      best, best_priority = target, priority
    end
  end
  return best
end

-- After every hook that picks a target, before the link is made.
SimpleEventHook {
  name = "linking/soundstage-protect",
  after = { "linking/find-defined-target", "linking/find-filter-target", "linking/find-media-role-target",
            "linking/find-default-target", "linking/find-best-target" },
  before = "linking/prepare-link",
  interests = {
    EventInterest {
      Constraint { "event.type", "=", "select-target" },
    },
  },
  execute = function (event)
    local target = event:get_data ("target")
    if target == nil or not arrays[target.properties["node.name"]] then
      return
    end
    local si = event:get_subject ()
    local props = si.properties
    if is_soundstage_output (props) then
      return
    end
    local other = best_other_target (event:get_source ():call ("get-object-manager", "session-item"), props)
    log:notice (si, string.format ("%s: not linking to driver array %s; %s", tostring (props["node.name"]),
        target.properties["node.name"],
        other and ("to " .. tostring (other.properties["node.name"]) .. " instead") or "no other sink"))
    event:set_data ("target", other)
  end
}:register ()
