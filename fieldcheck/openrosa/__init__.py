"""OpenRosa for ODK Collect (and any OpenRosa client): form list, XForms generated from the
methodologies, their media files, and the submission endpoint over the JSON API's own intake."""
