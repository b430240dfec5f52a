-- Soundstage for WirePlumber 0.5: a device that a rule in `soundstage.rules` describes gets the rule's card profile
-- (`soundstage.card-profile`, usually pro-audio: every driver a channel), before a stored or "best" profile is chosen;
-- a device that was already there when this script loaded is switched to it. Devices no rule matches are untouched.

log = Log.open_topic ("s-soundstage")
rules = require ("soundstage-rules")

-- The rule's card profile as the device offers it (the parsed EnumProfile properties), or nil and the names it
-- does offer.
function offered_profile (device, wanted)
  local names = {}
  for p in device:iterate_params ("EnumProfile") do
    local parsed = p:parse ()
    local pr = parsed and parsed.pod_type == "Object" and parsed.object_id == "EnumProfile" and parsed.properties
    if pr then
      if pr.name == wanted then
        return pr, names
      end
      table.insert (names, tostring (pr.name))
    end
  end
  return nil, names
end

-- The rule's card profile for this device as it offers it, with the rule; nil when no rule wants one, or the device
-- does not offer it (logged).
function wanted_profile (device)
  local rule = rules.find (device.properties)
  local wanted = rule and rule.props["soundstage.card-profile"]
  if wanted == nil then
    return nil
  end
  local profile, names = offered_profile (device, wanted)
  if profile == nil then
    log:warning (device, string.format ("%s: card profile '%s' not offered by %s (it has: %s)", rule.where,
        wanted, device.properties["device.name"] or "?", table.concat (names, ", ")))
    return nil
  end
  return profile, rule
end

SimpleEventHook {
  name = "device/soundstage-find-profile",
  before = "device/find-stored-profile",
  interests = {
    EventInterest {
      Constraint { "event.type", "=", "select-profile" },
    },
  },
  execute = function (event)
    local device = event:get_subject ()
    local profile, rule = wanted_profile (device)
    if profile then
      log:notice (device, string.format ("%s: card profile '%s' for %s", rule.where, profile.name,
          device.properties["device.name"] or "?"))
      event:set_data ("selected-profile", profile)
    end
  end
}:register ()

-- Devices that were already there when this script loaded
devices_om = ObjectManager {
  Interest { type = "device", Constraint { "media.class", "=", "Audio/Device" } }
}

devices_om:connect ("object-added", function (_, device)
  local profile, rule = wanted_profile (device)
  if profile == nil then
    return
  end
  for p in device:iterate_params ("Profile") do
    local parsed = p:parse ()
    if parsed.properties and parsed.properties.name == profile.name then
      return
    end
  end
  log:notice (device, string.format ("%s: setting card profile '%s' on %s", rule.where, profile.name,
      device.properties["device.name"] or "?"))
  device:set_param ("Profile", Pod.Object { "Spa:Pod:Object:Param:Profile", "Profile", index = profile.index })
end)

devices_om:activate ()
