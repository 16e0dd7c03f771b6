## The Tea Party.  Menus and a name to type are played by Neuro automatically;
## the sugar bowl is a custom action written with the neuro script API.

define m = Character("Marigold", color="#ffd37a")
define o = Character("Oolong", color="#a8e0a0")

default tea = None
default cat_name = "the cat"
default sugar = 1
default brave = False

init python:

    def sugar_cubes(data):
        """Neuro's "add_sugar" action: how many cubes go in (0 to 5)."""
        store.sugar = data["cubes"]
        # Ends the pause below; takes effect once Neuro has her answer.
        renpy.end_interaction(True)

image bg garden = Solid("#6d8f5a")
image bg kitchen = Solid("#8f6d5a")

label start:
    scene bg garden
    "A small garden, a round table, and a teapot that is still too hot to touch."
    m "Oh, you came! Welcome to my tea party."
    o "Mrrp."
    m "That is the cat. It does not have a name yet."

    menu:
        m "What would you like to drink?"
        "Green tea, please.":
            $ tea = "green"
            m "A classic. It smells like cut grass and rain."
        "Black tea with milk.":
            $ tea = "black"
            m "Strong and cosy. The cat approves."
        "Just hot water, thanks.":
            $ tea = "water"
            m "Very minimalist of you."

    $ cat_name = renpy.input("The cat looks at you. What should it be called?", length=12).strip() or "Oolong"
    m "[cat_name]? What a lovely name."
    o "Mrrrrp!"

    python:
        if neuro.connected():
            neuro.register_action(
                "add_sugar",
                "Drop sugar cubes into your cup.",
                sugar_cubes,
                {
                    "type": "object",
                    "properties": {"cubes": {"type": "integer", "minimum": 0, "maximum": 5}},
                    "required": ["cubes"],
                },
                one_shot=True,
            )
            neuro.force("Marigold holds out the sugar bowl. How many cubes?", "add_sugar")
            # Wait for her answer (her handler ends the pause), at most 20 seconds.
            renpy.pause(20.0, hard=True)
            neuro.unregister_action("add_sugar")

    m "[sugar] sugar cubes. I will remember that."

    menu:
        m "Shall we take a look at the kitchen? I baked something."
        "Yes, show me!":
            $ brave = True
            jump kitchen
        "Maybe later. This garden is nice.":
            jump garden_ending

label kitchen:
    scene bg kitchen
    m "Ta-da! A cake shaped like [cat_name]."
    $ verdict = neuro.ask("Marigold's cake looks exactly like the cat. What do you say?", ["It's adorable!", "Is it safe to eat?"], timeout=20.0, fallback="It's adorable!")
    if verdict == "Is it safe to eat?":
        m "Of course it is! Mostly."
    else:
        m "Thank you! [cat_name] modelled for it."
    "You share the cake, and [cat_name] gets the cherry on top."
    "{b}Ending: The Cake.{/b}"
    $ renpy.quit()

label garden_ending:
    m "Then let us sit a while longer."
    "The tea cools, the bees hum, and [cat_name] falls asleep on your lap."
    "{b}Ending: The Garden.{/b}"
    $ renpy.quit()
